import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { WebhookDeliveryList, WebhookPayload, WebhookSecret } from "../../contracts/webhooks.ts";
import { generations } from "../../db/schema/generations.ts";
import { webhookDeliveries } from "../../db/schema/webhook-deliveries.ts";
import { webhookSecrets } from "../../db/schema/webhook-secrets.ts";
import { createApp } from "../app.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, failedEvent, succeededEvent } from "../testing/job-events.ts";
import { testRegionKeys } from "../testing/region-keys.ts";
import { ROOMY_TEST_PLAN, seedAccount } from "../testing/seed.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhook-receiver.ts";
import { WebhookDispatcher } from "./webhook-dispatcher.ts";

const PARIS = { "x-client-lat": "48.85", "x-client-lon": "2.35" };
const FAST_RETRIES = { webhookRetryBaseMs: 100, webhookRetryMaxMs: 1_000, webhookMaxAttempts: 3 };

let f: EdgeFixture;
let region: RegionStandIn;
let receiver: WebhookReceiver;
let verifier: Webhook;

beforeAll(async () => {
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  receiver = await startWebhookReceiver();
  f = await createEdgeFixture({ regions: [region.config], tuning: FAST_RETRIES });
  const res = await f.call("/v1/webhooks/secret");
  verifier = new Webhook(WebhookSecret.parse(await res.json()).secret);
});
afterAll(async () => {
  await f.close();
  await region.close();
  await receiver.close();
});
beforeEach(() => {
  region.mode = { kind: "accept" };
  region.jobs.length = 0;
  receiver.received.length = 0;
  receiver.plan = [];
  receiver.fallback = 200;
});

async function submit(webhook: unknown, prompt = "a lighthouse in fog"): Promise<Generation> {
  // cache: false, so identical requests in one test do not merge into one generation.
  const res = await f.call("/v1/generations", {
    method: "POST",
    json: { prompt, cache: false, webhook },
    headers: PARIS,
  });
  expect(res.status).toBe(202);
  return Generation.parse(await res.json());
}

const lastJob = () => region.jobs.at(-1)!;
const deliveriesOf = async (id: string) =>
  WebhookDeliveryList.parse(await (await f.call(`/v1/generations/${id}/webhook_deliveries`)).json())
    .data;

describe("webhooks (Standard Webhooks)", () => {
  it("signs the terminal event so an independent verifier accepts it; retries a 500; records every attempt", async () => {
    receiver.plan = [500];
    const gen = await submit({ url: receiver.url() });
    const done = await deliverEvent(
      f.app,
      TEST_SECRETS.regionSigning,
      succeededEvent(lastJob(), "eu-west", new Uint8Array([1, 2, 3])),
    );
    expect(done.status).toBe(200);

    const [first, second] = await receiver.waitFor(2);
    expect([first!.status, second!.status]).toEqual([500, 200]);
    // One message: the same id on every attempt; each attempt signed for its own timestamp.
    expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    for (const hit of [first!, second!]) {
      const payload = WebhookPayload.parse(
        verifier.verify(hit.body, hit.headers as Record<string, string>),
      );
      expect(payload.type).toBe("generation.succeeded");
      expect(payload.data).toMatchObject({ id: gen.id, status: "succeeded" });
      expect(payload.data.output?.url).toMatch(/\/v1\/assets\/.+\?exp=\d+&sig=[0-9a-f]+$/);
    }
    expect(() =>
      verifier.verify(
        second!.body.replace("succeeded", "failed"),
        second!.headers as Record<string, string>,
      ),
    ).toThrow();

    const deliveries = await deliveriesOf(gen.id);
    await expect.poll(async () => (await deliveriesOf(gen.id))[0]?.status).toBe("delivered");
    expect(deliveries).toHaveLength(1);
    const [delivery] = await deliveriesOf(gen.id);
    expect(delivery).toMatchObject({
      id: first!.headers["webhook-id"],
      event: "succeeded",
      url: receiver.url(),
      next_attempt_at: null,
    });
    expect(delivery!.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, "HTTP 500"],
      [2, 200, null],
    ]);
    const [row] = await f.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.generationId, gen.id));
    expect(row).toMatchObject({ attempt: 2, statusCode: 200 });
    expect(row!.deliveredAt).not.toBeNull();
  });

  it("honours the event filter", async () => {
    const quiet = await submit({ url: receiver.url("/quiet"), events: ["failed"] });
    await deliverEvent(
      f.app,
      TEST_SECRETS.regionSigning,
      succeededEvent(lastJob(), "eu-west", new Uint8Array([4])),
    );
    const loud = await submit({ url: receiver.url("/loud"), events: ["failed"] });
    await deliverEvent(
      f.app,
      TEST_SECRETS.regionSigning,
      failedEvent(lastJob(), "eu-west", false, "model_error"),
    );

    const [hit] = await receiver.waitFor(1);
    // Give a wrongly sent `succeeded` time to arrive before concluding it was not sent.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(1);
    expect(hit!.path).toBe("/loud");
    const payload = WebhookPayload.parse(JSON.parse(hit!.body));
    expect(payload).toMatchObject({
      type: "generation.failed",
      data: { id: loud.id, status: "failed" },
    });
    expect(await deliveriesOf(quiet.id)).toEqual([]);
  });

  it("sends a blocked prompt's event too (every terminal event by default)", async () => {
    const res = await f.call("/v1/generations", {
      method: "POST",
      json: { prompt: "a nude portrait", webhook: { url: receiver.url() } },
      headers: PARIS,
    });
    const error = await expectError(res, 422, "content_policy_violation", "prompt_blocked");
    const [hit] = await receiver.waitFor(1);
    const payload = WebhookPayload.parse(
      verifier.verify(hit!.body, hit!.headers as Record<string, string>),
    );
    expect(payload).toMatchObject({
      type: "generation.blocked",
      data: { id: error.generation, status: "blocked" },
    });
  });

  it("does not hold the region's event answer while the receiver is slow", async () => {
    receiver.hold = true;
    const gen = await submit({ url: receiver.url() });
    const answered = deliverEvent(
      f.app,
      TEST_SECRETS.regionSigning,
      succeededEvent(lastJob(), "eu-west", new Uint8Array([5])),
    );
    const outcome = await Promise.race([
      answered.then((r) => r.status),
      new Promise((resolve) => setTimeout(() => resolve("blocked on the webhook"), 5_000)),
    ]);
    expect(outcome).toBe(200);
    await receiver.waitFor(1);
    expect((await deliveriesOf(gen.id))[0]!.status).toBe("pending");
    receiver.release();
    await expect.poll(async () => (await deliveriesOf(gen.id))[0]?.status).toBe("delivered");
  });

  it("gives up after the last attempt, and at once on 410 Gone", async () => {
    receiver.fallback = 503;
    const failing = await submit({ url: receiver.url("/down") });
    await deliverEvent(
      f.app,
      TEST_SECRETS.regionSigning,
      succeededEvent(lastJob(), "eu-west", new Uint8Array([6])),
    );
    await expect
      .poll(async () => (await deliveriesOf(failing.id))[0]?.status, { timeout: 10_000 })
      .toBe("failed");
    const [given] = await deliveriesOf(failing.id);
    expect(given!.attempts.map((a) => a.status_code)).toEqual([503, 503, 503]);
    expect(receiver.received.filter((r) => r.path === "/down")).toHaveLength(3);

    receiver.fallback = 410;
    const gone = await submit({ url: receiver.url("/gone") });
    await deliverEvent(
      f.app,
      TEST_SECRETS.regionSigning,
      succeededEvent(lastJob(), "eu-west", new Uint8Array([7])),
    );
    await expect.poll(async () => (await deliveriesOf(gone.id))[0]?.status).toBe("failed");
    expect((await deliveriesOf(gone.id))[0]!.attempts).toHaveLength(1);
  });

  it("resumes pending deliveries after a restart", async () => {
    const dispatcher = (waitUntil: (p: Promise<unknown>) => void, baseDelayMs: number) =>
      new WebhookDispatcher({
        db: f.db,
        fetch,
        secretsKeys: TEST_SECRETS.webhookSecretsKeys,
        assetUrlSecret: TEST_SECRETS.assetUrl,
        environment: "development",
        log: () => {},
        waitUntil,
        retries: "timers",
        policy: { baseDelayMs },
      });
    // A generation without a webhook of its own, so the app's dispatcher never touches it.
    const gen = await submit(undefined);
    await deliverEvent(
      f.app,
      TEST_SECRETS.regionSigning,
      succeededEvent(lastJob(), "eu-west", new Uint8Array([8])),
    );
    const [row] = await f.db.select().from(generations).where(eq(generations.id, gen.id));
    const finished = { ...row!, webhook: { url: receiver.url("/resume") } };

    // The first process: attempt 1 fails, the retry (a minute away) is left in the row; it stops.
    const firstTasks: Promise<unknown>[] = [];
    const first = dispatcher((p) => void firstTasks.push(p), 60_000);
    receiver.plan = [500];
    await first.generationEnded(finished, "http://edge.test");
    await Promise.all(firstTasks);
    expect(first.scheduled).toBe(1);
    first.stop();
    expect(receiver.received).toHaveLength(1);
    const [pending] = await f.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.generationId, gen.id));
    expect(pending!.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 30_000);

    // ...the minute passes with no process running; then a new one starts.
    await f.db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(Date.now() - 1_000) })
      .where(eq(webhookDeliveries.generationId, gen.id));
    const tasks: Promise<unknown>[] = [];
    const restarted = dispatcher((p) => void tasks.push(p), 60_000);
    restarted.start(60_000);
    try {
      const [, second] = await receiver.waitFor(2);
      expect(second!.headers["webhook-id"]).toBe(pending!.id);
      expect(verifier.verify(second!.body, second!.headers as Record<string, string>)).toBeTruthy();
      await expect.poll(async () => (await deliveriesOf(gen.id))[0]?.status).toBe("delivered");
      expect((await deliveriesOf(gen.id))[0]!.attempts.map((a) => a.status_code)).toEqual([
        500, 200,
      ]);
    } finally {
      restarted.stop();
      await Promise.all(tasks);
    }
  });

  it("a retry whose timer fires before it is due waits for it instead of being dropped", async () => {
    // Timers count from the event loop's cached time; after a long turn one fires early by the
    // wall clock. Modelled here by a clock that falls 300 ms behind once the retry is scheduled.
    let lagMs = 0;
    const tasks: Promise<unknown>[] = [];
    const early = new WebhookDispatcher({
      db: f.db,
      fetch,
      secretsKeys: TEST_SECRETS.webhookSecretsKeys,
      assetUrlSecret: TEST_SECRETS.assetUrl,
      environment: "development",
      log: () => {},
      waitUntil: (p) => void tasks.push(p),
      retries: "timers",
      policy: { baseDelayMs: 50, maxDelayMs: 50 },
      clock: () => Date.now() - lagMs,
    });
    const gen = await submit(undefined, "a lighthouse at noon");
    await deliverEvent(
      f.app,
      TEST_SECRETS.regionSigning,
      succeededEvent(lastJob(), "eu-west", new Uint8Array([9])),
    );
    const [row] = await f.db.select().from(generations).where(eq(generations.id, gen.id));
    receiver.plan = [500];
    try {
      await early.generationEnded(
        { ...row!, webhook: { url: receiver.url("/early") } },
        "http://edge.test",
      );
      while (tasks.length > 0) await tasks.shift();
      expect(early.scheduled).toBe(1);
      lagMs = 300;
      const [, second] = await receiver.waitFor(2);
      expect(second!.status).toBe(200);
    } finally {
      early.stop();
      await Promise.all(tasks);
    }
  });

  it("answers 404 for another account's generation", async () => {
    const gen = await submit({ url: receiver.url() });
    const { seedAccount } = await import("../testing/seed.ts");
    const other = await seedAccount(f.db);
    const res = await f.call(`/v1/generations/${gen.id}/webhook_deliveries`, { key: other.key });
    await expectError(res, 404, "not_found_error", "generation_not_found");
  });
});

describe("webhook targets in production", () => {
  let prod: EdgeFixture;
  beforeAll(async () => {
    prod = await createEdgeFixture({ regions: [region.config], environment: "production" });
  });
  afterAll(() => prod.close());

  it.each([
    "http://127.0.0.1:9/hook",
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://10.0.0.5/hook",
    "http://hooks.example.com/plain-http",
  ])("refuses %s with 400 before anything is written", async (url) => {
    const res = await prod.call("/v1/generations", {
      method: "POST",
      json: { prompt: "a lighthouse", webhook: { url } },
    });
    const error = await expectError(res, 400, "invalid_request_error", "invalid_webhook_url");
    expect(error.param).toBe("webhook.url");
  });
});

describe("webhook secrets per account", () => {
  const secretOf = async (key?: string) =>
    WebhookSecret.parse(await (await f.call("/v1/webhooks/secret", key ? { key } : {})).json());

  it("are random per account, stored sealed, and owe nothing to the region keys", async () => {
    const mine = await secretOf();
    expect((await secretOf()).secret).toBe(mine.secret);
    const other = await seedAccount(f.db);
    expect((await secretOf(other.key)).secret).not.toBe(mine.secret);
    const [row] = await f.db
      .select()
      .from(webhookSecrets)
      .where(eq(webhookSecrets.accountId, f.owner.account.id));
    expect(row!.keyId).toBe(TEST_SECRETS.webhookSecretsKeys.current.id);
    expect(row!.ciphertext).not.toContain(mine.secret.slice(6));
    // Another edge over the same database, whose regions hold other keys, signs the same way.
    const elsewhere = createApp({
      db: f.db,
      assets: f.assets,
      regions: [region.config],
      secrets: {
        ...TEST_SECRETS,
        regionKeys: testRegionKeys("another-dev-secret-0123456789", ["eu-west"]),
      },
      publicUrl: "http://localhost",
      environment: "development",
      log: () => {},
    });
    const res = await elsewhere.request("/v1/webhooks/secret", {
      headers: { authorization: `Bearer ${f.owner.key}` },
    });
    expect(WebhookSecret.parse(await res.json()).secret).toBe(mine.secret);
  });

  it("rotate through the API: both signatures during the overlap, the new one alone after", async () => {
    const account = await seedAccount(f.db, { plan: ROOMY_TEST_PLAN.id });
    const before = await secretOf(account.key);
    expect(before.previous_expires_at).toBeNull();
    const rotated = WebhookSecret.parse(
      await (
        await f.call("/v1/webhooks/secret/rotate", {
          method: "POST",
          key: account.key,
          json: { overlap_s: 3600 },
        })
      ).json(),
    );
    expect(rotated.secret).not.toBe(before.secret);
    expect(Date.parse(rotated.previous_expires_at!) - Date.now()).toBeGreaterThan(3_500_000);
    expect((await secretOf(account.key)).secret).toBe(rotated.secret);

    const send = async (prompt: string) => {
      const res = await f.call("/v1/generations", {
        method: "POST",
        key: account.key,
        json: { prompt, cache: false, webhook: { url: receiver.url() } },
        headers: PARIS,
      });
      const gen = Generation.parse(await res.json());
      await deliverEvent(
        f.app,
        TEST_SECRETS.regionSigning,
        failedEvent(
          region.jobs.find((j) => j.job_id === gen.id)!,
          "eu-west",
          false,
          "oom",
        ),
      );
      const [message] = await receiver.waitFor(1);
      receiver.received.length = 0;
      return message!;
    };
    const during = await send("overlap");
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    for (const secret of [before.secret, rotated.secret]) {
      expect(() =>
        new Webhook(secret).verify(during.body, during.headers as Record<string, string>),
      ).not.toThrow();
    }

    // No overlap: the secret just replaced stops at once (and the one before it too).
    const again = WebhookSecret.parse(
      await (
        await f.call("/v1/webhooks/secret/rotate", {
          method: "POST",
          key: account.key,
          json: { overlap_s: 0 },
        })
      ).json(),
    );
    const after = await send("after");
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(() =>
      new Webhook(again.secret).verify(after.body, after.headers as Record<string, string>),
    ).not.toThrow();
    expect(() =>
      new Webhook(rotated.secret).verify(after.body, after.headers as Record<string, string>),
    ).toThrow();
  });

  it("open under the previous storage key during its rotation, and are resealed as they are read", async () => {
    const account = await seedAccount(f.db, { plan: ROOMY_TEST_PLAN.id });
    const before = await secretOf(account.key);
    const next = { id: "test-2", key: btoa("the-next-webhook-secrets-key-012") };
    const rotated = createApp({
      db: f.db,
      assets: f.assets,
      regions: [region.config],
      secrets: {
        ...TEST_SECRETS,
        webhookSecretsKeys: { current: next, previous: TEST_SECRETS.webhookSecretsKeys.current },
      },
      publicUrl: "http://localhost",
      environment: "development",
      log: () => {},
    });
    const res = await rotated.request("/v1/webhooks/secret", {
      headers: { authorization: `Bearer ${account.key}` },
    });
    expect(WebhookSecret.parse(await res.json()).secret).toBe(before.secret);
    const [row] = await f.db
      .select()
      .from(webhookSecrets)
      .where(eq(webhookSecrets.accountId, account.account.id));
    expect(row!.keyId).toBe("test-2");
  });

  it("refuses an overlap past 7 days or an unknown field", async () => {
    for (const json of [{ overlap_s: 8 * 86_400 }, { overlap: 1 }]) {
      await expectError(
        await f.call("/v1/webhooks/secret/rotate", { method: "POST", json }),
        400,
        "invalid_request_error",
      );
    }
  });
});
