import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import type { JobEvent, RegionJob } from "../../contracts/region-protocol.ts";
import { generations } from "../../db/schema/generations.ts";
import { usageLedger } from "../../db/schema/usage-ledger.ts";
import { webhookDeliveries } from "../../db/schema/webhook-deliveries.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { blockedEvent, deliverEvent, failedEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhook-receiver.ts";

// A terminal transition and its webhook message commit together: with the message's insert made to
// fail (a real trigger in the real database), the transition is rolled back too, and the retry that
// follows (a region re-sending its event, a client re-sending its cancel) commits both.

const SECRET = TEST_SECRETS.regionSigning;

let f: EdgeFixture;
let region: RegionStandIn;
let receiver: WebhookReceiver;

beforeAll(async () => {
  region = await startRegionStandIn({ name: "eu-west", lat: 53.35, lon: -6.26, secret: SECRET });
  receiver = await startWebhookReceiver();
  f = await createEdgeFixture({ regions: [region.config] });
  await f.db.execute(sql`
    create function refuse_webhook_delivery() returns trigger language plpgsql as $$
    begin raise exception 'webhook_deliveries is refusing writes'; end $$`);
});
afterAll(async () => {
  await f?.close();
  await region?.close();
  await receiver?.close();
});
beforeEach(() => {
  receiver.received.length = 0;
});
afterEach(() => allowDeliveries());

async function refuseDeliveries() {
  await f.db.execute(sql`
    create trigger refuse before insert on webhook_deliveries
    for each row execute function refuse_webhook_delivery()`);
}
async function allowDeliveries() {
  await f.db.execute(sql`drop trigger if exists refuse on webhook_deliveries`);
}

async function submit(json: object): Promise<{ generation: Generation; job: RegionJob }> {
  const res = await f.call("/v1/generations", { method: "POST", json });
  expect(res.status).toBe(202);
  const generation = Generation.parse(await res.json());
  return { generation, job: region.jobs.find((j) => j.job_id === generation.id)! };
}

/** The row's status and its webhook messages, in one read. */
async function stateOf(id: string) {
  const rows = await f.db
    .select({ status: generations.status, event: webhookDeliveries.event })
    .from(generations)
    .leftJoin(webhookDeliveries, eq(webhookDeliveries.generationId, generations.id))
    .where(eq(generations.id, id));
  return { status: rows[0]!.status, webhooks: rows.flatMap((r) => (r.event ? [r.event] : [])) };
}

const ledgerKinds = async (id: string) =>
  (await f.db.select().from(usageLedger).where(eq(usageLedger.generationId, id)))
    .map((e) => e.kind)
    .sort();

const events: Record<string, (job: RegionJob) => JobEvent> = {
  succeeded: (job) => succeededEvent(job, "eu-west", new TextEncoder().encode(job.job_id)),
  failed: (job) => failedEvent(job, "eu-west", false, "inference_failed"),
  blocked: (job) => blockedEvent(job, "eu-west"),
};

describe("terminal transition and webhook message in one transaction", () => {
  it.each(Object.keys(events))(
    "a `%s` event whose message cannot be recorded changes nothing; its retry commits both",
    async (type) => {
      const { generation, job } = await submit({
        prompt: `ends ${type}`,
        cache: false,
        webhook: { url: receiver.url() },
      });
      await refuseDeliveries();
      const refused = await deliverEvent(f.app, SECRET, events[type]!(job));
      expect(refused.status).toBe(500);
      expect(await stateOf(generation.id)).toEqual({ status: "queued", webhooks: [] });
      expect(await ledgerKinds(generation.id)).toEqual(["reserve"]);

      await allowDeliveries();
      const retried = await deliverEvent(f.app, SECRET, events[type]!(job));
      expect(await retried.json()).toEqual({ ok: true, outcome: "applied" });
      expect(await stateOf(generation.id)).toEqual({ status: type, webhooks: [type] });
      const [hit] = await receiver.waitFor(1);
      expect(JSON.parse(hit!.body)).toMatchObject({ type: `generation.${type}` });
    },
  );

  it("a cancel whose message cannot be recorded is a 500 that leaves the generation queued", async () => {
    const { generation } = await submit({
      prompt: "canceled twice",
      cache: false,
      webhook: { url: receiver.url() },
    });
    await refuseDeliveries();
    const cancel = () => f.call(`/v1/generations/${generation.id}/cancel`, { method: "POST" });
    await expectError(await cancel(), 500, "api_error");
    expect(await stateOf(generation.id)).toEqual({ status: "queued", webhooks: [] });
    await f.tasks.drain(2_000);
    expect(region.cancels).not.toContain(generation.id);

    await allowDeliveries();
    expect((await cancel()).status).toBe(200);
    expect(await stateOf(generation.id)).toEqual({ status: "canceled", webhooks: ["canceled"] });
    expect(await ledgerKinds(generation.id)).toEqual(["refund", "reserve"]);
    await f.tasks.drain(2_000);
    expect(region.cancels).toContain(generation.id);
  });

  it("merged requests end with their messages together; a repeated event finishes them", async () => {
    const body = { prompt: "one job, two callers", seed: 5 };
    const { generation: leader, job } = await submit(body);
    const { generation: follower } = await submit({ ...body, webhook: { url: receiver.url() } });
    expect(region.jobs.filter((j) => j.job_id === follower.id)).toEqual([]);

    // The leader (no webhook of its own) ends; its follower's message cannot be recorded.
    await refuseDeliveries();
    expect((await deliverEvent(f.app, SECRET, events.succeeded!(job))).status).toBe(500);
    expect(await stateOf(leader.id)).toEqual({ status: "succeeded", webhooks: [] });
    expect(await stateOf(follower.id)).toEqual({ status: "queued", webhooks: [] });

    // The region sends its event again: the leader is done, what it left undone is finished now.
    await allowDeliveries();
    const again = await deliverEvent(f.app, SECRET, events.succeeded!(job));
    expect(await again.json()).toEqual({ ok: true, outcome: "ignored" });
    expect(await stateOf(follower.id)).toEqual({ status: "succeeded", webhooks: ["succeeded"] });
    expect(await ledgerKinds(follower.id)).toEqual(["reserve", "settle"]);
    await receiver.waitFor(1);
  });
  it("a blocked prompt whose message cannot be recorded is stored with it or not at all", async () => {
    const body = {
      prompt: "a gory beheading in a town square",
      webhook: { url: receiver.url() },
    };
    const headers = { "idempotency-key": "blocked-with-webhook" };
    await refuseDeliveries();
    const refused = await f.call("/v1/generations", { method: "POST", json: body, headers });
    await expectError(refused, 500, "api_error");
    const blocked = await f.db.select().from(generations).where(eq(generations.status, "blocked"));
    expect(blocked.filter((g) => g.idempotencyKey === "blocked-with-webhook")).toEqual([]);

    await allowDeliveries();
    const res = await f.call("/v1/generations", { method: "POST", json: body, headers });
    const error = await expectError(res, 422, "content_policy_violation", "prompt_blocked");
    expect(await stateOf(error.generation!)).toEqual({ status: "blocked", webhooks: ["blocked"] });
    await receiver.waitFor(1);
  });
  it("an answer from the dedup cache is stored with its message or not at all", async () => {
    const body = { prompt: "answered twice from one render", seed: 11 };
    const { generation, job } = await submit(body);
    expect((await deliverEvent(f.app, SECRET, events.succeeded!(job))).status).toBe(200);
    expect((await stateOf(generation.id)).status).toBe("succeeded");

    const again = { ...body, webhook: { url: receiver.url() } };
    const countRows = async () =>
      (await f.db.select().from(generations)).filter((g) => g.prompt === body.prompt).length;
    await refuseDeliveries();
    const refused = await f.call("/v1/generations", { method: "POST", json: again });
    await expectError(refused, 500, "api_error");
    expect(await countRows()).toBe(1);

    await allowDeliveries();
    const res = await f.call("/v1/generations", { method: "POST", json: again });
    expect(res.status).toBe(200);
    const copy = Generation.parse(await res.json());
    expect(copy.cached).toBe(true);
    expect(await stateOf(copy.id)).toEqual({ status: "succeeded", webhooks: ["succeeded"] });
    await receiver.waitFor(1);
  });
});
