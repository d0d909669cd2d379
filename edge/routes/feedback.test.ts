import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { createApiClient } from "../../contracts/client/api-client.ts";
import { FeedbackList, FeedbackObject } from "../../contracts/feedback.ts";
import { listModerationEvents } from "../../db/queries/moderation-events.ts";
import { createProject } from "../../db/queries/projects.ts";
import { generations } from "../../db/schema/generations.ts";
import { runReviewCommand } from "../../scripts/admin/reviews.ts";
import { purgeRemovedOutputs } from "../feedback/purge-removed.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, succeededEvent } from "../testing/job-events.ts";
import { MapResponseCache } from "../testing/map-response-cache.ts";
import {
  startRegionStandIn,
  storedObjectOf,
  type RegionStandIn,
} from "../testing/region-stand-in.ts";
import { seedAccount } from "../testing/seed.ts";

let f: EdgeFixture;
let eu: RegionStandIn;
let gallery: string;
let seq = 0;
const cache = new MapResponseCache();
type Account = Awaited<ReturnType<typeof seedAccount>>;

beforeAll(async () => {
  eu = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({
    regions: [eu.config],
    responseCache: cache,
    // Hides and approvals reach the asset route's cache path at once in these tests.
    tuning: { votesPerMinute: 30, hiddenAssetsTtlMs: 0 },
  });
  gallery = (
    await createProject(f.db, {
      accountId: f.owner.account.id,
      name: "gallery",
      visibility: "public",
    })
  ).id;
});
afterAll(async () => {
  await f?.close();
  await eu?.close();
});

/** A succeeded generation of the owner (in the public gallery unless `private`). */
async function generated({ priv = false } = {}) {
  const bytes = new TextEncoder().encode(`feedback image ${++seq} `.repeat(20));
  const res = await f.call("/v1/generations", {
    method: "POST",
    json: { prompt: "harbour at dawn", seed: seq, ...(priv ? {} : { project: gallery }) },
  });
  expect(res.status).toBe(202);
  const job = eu.jobs.at(-1)!;
  const output = storedObjectOf(bytes);
  eu.objects.set(output.key, { bytes, contentType: "image/png" });
  await deliverEvent(f.app, TEST_SECRETS.regionSigning, succeededEvent(job, "eu-west", bytes));
  return { id: job.job_id, key: output.key, path: `/v1/assets/${output.key}` };
}

const vote = (id: string, key: string, json: unknown) =>
  f.call(`/v1/generations/${id}/feedback`, { method: "POST", key, json });

async function getGeneration(id: string, key = f.owner.key) {
  return Generation.parse(await (await f.call(`/v1/generations/${id}`, { key })).json());
}

/** An account that looked at the output before voting (an honest voter, weight 1). */
async function viewer(path: string): Promise<Account> {
  const a = await seedAccount(f.db);
  expect((await f.call(path, { key: a.key })).status).toBe(200);
  await f.tasks.drain(5_000);
  return a;
}

describe("POST/DELETE /v1/generations/:id/feedback, GET /v1/feedback", () => {
  it("keeps one vote per account: repeat is idempotent, another kind replaces, DELETE takes it back", async () => {
    const g = await generated();
    const first = FeedbackObject.parse(
      await (await vote(g.id, f.owner.key, { kind: "like" })).json(),
    );
    expect(first).toMatchObject({ generation: g.id, kind: "like", livemode: true });
    const again = FeedbackObject.parse(
      await (await vote(g.id, f.owner.key, { kind: "like" })).json(),
    );
    expect(again).toEqual(first);
    expect((await getGeneration(g.id)).feedback).toEqual({ likes: 1, dislikes: 0, reports: 0 });

    const changed = FeedbackObject.parse(
      await (await vote(g.id, f.owner.key, { kind: "dislike", reason: "off_prompt" })).json(),
    );
    expect(changed).toMatchObject({ id: first.id, kind: "dislike", reason: "off_prompt" });
    expect((await getGeneration(g.id)).feedback).toEqual({ likes: 0, dislikes: 1, reports: 0 });

    const list = FeedbackList.parse(await (await f.call("/v1/feedback")).json());
    expect(list.data.find((v) => v.generation === g.id)?.kind).toBe("dislike");

    const withdrawn = await f.call(`/v1/generations/${g.id}/feedback`, { method: "DELETE" });
    expect(withdrawn.status).toBe(200);
    expect((await getGeneration(g.id)).feedback).toEqual({ likes: 0, dislikes: 0, reports: 0 });
    await expectError(
      await f.call(`/v1/generations/${g.id}/feedback`, { method: "DELETE" }),
      404,
      "not_found_error",
      "feedback_not_found",
    );
  });

  it("takes votes on public outputs of others; another account's private one is 404", async () => {
    const pub = await generated();
    const priv = await generated({ priv: true });
    const other = await viewer(pub.path);
    expect((await vote(pub.id, other.key, { kind: "like" })).status).toBe(200);
    await expectError(await vote(priv.id, other.key, { kind: "like" }), 404, "not_found_error");
    await expectError(
      await f.call(`/v1/generations/${priv.id}/feedback`, { method: "DELETE", key: other.key }),
      404,
      "not_found_error",
      "generation_not_found",
    );
    await expectError(
      await vote("gen_00000000000000000000000000", other.key, { kind: "like" }),
      404,
      "not_found_error",
    );
    // Each account lists its own votes only.
    const mine = FeedbackList.parse(
      await (await f.call("/v1/feedback", { key: other.key })).json(),
    );
    expect(mine.data.map((v) => v.generation)).toEqual([pub.id]);
    const owners = FeedbackList.parse(await (await f.call("/v1/feedback?kind=like")).json());
    expect(owners.data.some((v) => v.generation === pub.id)).toBe(false);
  });

  it("validates the body and refuses votes on outputs that do not exist yet", async () => {
    const g = await generated();
    await expectError(
      await vote(g.id, f.owner.key, { kind: "love" }),
      400,
      "invalid_request_error",
    );
    await expectError(
      await vote(g.id, f.owner.key, { kind: "like", comment: "x".repeat(1001) }),
      400,
      "invalid_request_error",
    );
    await expectError(
      await vote(g.id, f.owner.key, { kind: "like", extra: 1 }),
      400,
      "invalid_request_error",
    );
    const queued = await f.call("/v1/generations", { method: "POST", json: { prompt: "later" } });
    const { id } = Generation.parse(await queued.json());
    await expectError(
      await vote(id, f.owner.key, { kind: "like" }),
      400,
      "invalid_request_error",
      "generation_not_succeeded",
    );
  });

  it("limits votes per account (429 with Retry-After)", async () => {
    const g = await generated();
    const busy = await seedAccount(f.db);
    await f.call(g.path, { key: busy.key });
    let limited: Response | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await vote(g.id, busy.key, { kind: i % 2 ? "like" : "dislike" });
      if (res.status === 429) limited = res;
    }
    expect(limited).toBeDefined();
    await expectError(limited!, 429, "rate_limit_error", "vote_rate_limit_exceeded");
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("the typed client", () => {
  it("casts, lists and withdraws votes and refines through the generated client", async () => {
    const g = await generated();
    const client = createApiClient({
      baseUrl: "http://localhost",
      apiKey: f.owner.key,
      fetch: (input: RequestInfo | URL, init?: RequestInit) =>
        Promise.resolve(f.app.request(new Request(input, init))),
    });
    const path = { params: { path: { id: g.id } } };
    const cast = await client.POST("/v1/generations/{id}/feedback", {
      ...path,
      body: { kind: "like", comment: "lovely light" },
    });
    expect(cast.data?.kind).toBe("like");
    const listed = await client.GET("/v1/feedback", { params: { query: { kind: "like" } } });
    expect(listed.data?.data.some((v) => v.generation === g.id)).toBe(true);
    const refined = await client.POST("/v1/generations/{id}/refine", { ...path, body: {} });
    expect(refined.data?.parent_id).toBe(g.id);
    const withdrawn = await client.DELETE("/v1/generations/{id}/feedback", path);
    expect(withdrawn.data?.id).toBe(cast.data?.id);
  });
});

describe("reports, review and removal", () => {
  it("hides a public output once trusted reports reach the threshold: 451 to all but the owner", async () => {
    const g = await generated();
    const reporters = [await viewer(g.path), await viewer(g.path), await viewer(g.path)];
    // Blind and test-mode reports weigh (almost) nothing.
    const blind = await seedAccount(f.db);
    const tester = await seedAccount(f.db, { mode: "test" });
    await f.call(g.path, { key: tester.key });
    expect((await vote(g.id, blind.key, { kind: "report", reason: "spam" })).status).toBe(200);
    expect((await vote(g.id, tester.key, { kind: "report", reason: "spam" })).status).toBe(200);
    for (const r of reporters.slice(0, 2)) {
      expect((await vote(g.id, r.key, { kind: "report", reason: "violence" })).status).toBe(200);
    }
    // Served to anyone and cached at the edge, while visible.
    expect((await f.call(g.path, { key: null })).status).toBe(200);
    await f.tasks.drain(5_000);
    const cachedCopy = cache.entries.get(`http://localhost${g.path}`);
    expect(cachedCopy).toBeDefined();
    expect((await getGeneration(g.id)).review).toBeNull();

    expect(
      (await vote(g.id, reporters[2]!.key, { kind: "report", reason: "violence" })).status,
    ).toBe(200);
    const hidden = await getGeneration(g.id);
    expect(hidden.review).toMatchObject({ state: "pending" });
    expect(hidden.feedback?.reports).toBe(5);
    // The cached copy is dropped, and a cached copy elsewhere is never served (HiddenAssets).
    expect(cache.entries.has(`http://localhost${g.path}`)).toBe(false);
    cache.entries.set(`http://localhost${g.path}`, cachedCopy!);
    await expectError(
      await f.call(g.path, { key: null }),
      451,
      "permission_error",
      "output_under_review",
    );
    await expectError(
      await f.call(g.path, { key: reporters[0]!.key }),
      451,
      "permission_error",
      "output_under_review",
    );
    expect((await f.call(g.path)).status).toBe(200);
    await expectError(await vote(g.id, blind.key, { kind: "like" }), 451, "permission_error");
    await expectError(
      await f.call(`/v1/generations/${g.id}/refine`, { method: "POST", key: blind.key, json: {} }),
      451,
      "permission_error",
    );
    const events = await listModerationEvents(f.db, f.owner.account.id, { generationId: g.id });
    expect(events.map((e) => [e.stage, e.action, e.categories])).toEqual([
      ["review", "flag", ["spam", "violence"]],
    ]);

    // Approved: visible again, and the same reports do not hide it a second time.
    const approved = await runReviewCommand(f.db, {
      action: "approve",
      generation: g.id,
      reviewer: "tester",
      wait: 0,
    });
    expect(approved).toMatchObject({ decision: "approved", generations: [g.id] });
    expect((await f.call(g.path, { key: null })).status).toBe(200);
    const late = await viewer(g.path);
    await vote(g.id, late.key, { kind: "report", reason: "violence" });
    expect((await getGeneration(g.id)).review?.state).toBe("approved");
  });

  it("removes an output: 451 for everyone, bytes deleted from the origin and the edge store", async () => {
    const g = await generated();
    const reporters = [await viewer(g.path), await viewer(g.path), await viewer(g.path)];
    for (const r of reporters) await vote(g.id, r.key, { kind: "report", reason: "hate" });
    const queue = (await runReviewCommand(f.db, { action: "list", reviewer: "t", wait: 0 }))
      .reviews as { generation: string; reports: number }[];
    expect(queue.find((r) => r.generation === g.id)?.reports).toBe(3);
    expect(await f.assets.head(g.key)).not.toBeNull();

    const removed = await runReviewCommand(f.db, {
      action: "remove",
      generation: g.id,
      reviewer: "tester",
      note: "hateful symbol",
      wait: 0,
    });
    expect(removed).toMatchObject({ decision: "removed", purged_at: null });
    await expectError(await f.call(g.path), 451, "permission_error", "output_removed");

    expect(await purgeRemovedOutputs(f.services)).toEqual({ purged: 1, failed: 0 });
    expect(eu.objectDeletes).toContain(g.key);
    expect(eu.objects.has(g.key)).toBe(false);
    expect(await f.assets.head(g.key)).toBeNull();
    const [row] = await f.db.select().from(generations).where(eq(generations.id, g.id));
    expect(row?.outputPurgedAt).toBeInstanceOf(Date);
    await expectError(
      await f.call(g.path, { key: null }),
      451,
      "permission_error",
      "output_removed",
    );
    expect(await purgeRemovedOutputs(f.services)).toEqual({ purged: 0, failed: 0 });

    const events = await listModerationEvents(f.db, f.owner.account.id, { generationId: g.id });
    expect(events.map((e) => [e.stage, e.action]).sort()).toEqual([
      ["review", "block"],
      ["review", "flag"],
    ]);
    expect(events.find((e) => e.action === "block")?.matched).toEqual([
      { decision: "removed", by: "tester", note: "hateful symbol" },
    ]);
  });
});

describe("POST /v1/generations/:id/refine", () => {
  it("creates a child with the source's seed, size and version; priced like any generation", async () => {
    const g = await generated();
    const res = await f.call(`/v1/generations/${g.id}/refine`, {
      method: "POST",
      json: { prompt: "harbour at dusk", strength: 0.25 },
    });
    expect(res.status).toBe(202);
    const child = Generation.parse(await res.json());
    const source = await getGeneration(g.id);
    expect(child).toMatchObject({
      parent_id: g.id,
      prompt: "harbour at dusk",
      project: gallery,
      model_version: source.model_version,
      params: { seed: source.params.seed, width: source.params.width },
    });
    expect(child.cost.estimated_usd).toBeGreaterThan(0);
    const [row] = await f.db.select().from(generations).where(eq(generations.id, child.id));
    expect(row?.derivation).toEqual({ kind: "refine", strength: 0.25 });
    // The test model version takes no style input: the source's own style (none) is kept.
    expect(row?.style).toBeNull();
  });

  it("refines someone else's public output into the caller's own account; private ones are 404", async () => {
    const pub = await generated();
    const priv = await generated({ priv: true });
    const other = await seedAccount(f.db);
    const res = await f.call(`/v1/generations/${pub.id}/refine`, {
      method: "POST",
      key: other.key,
      json: { seed: 99 },
    });
    expect(res.status).toBe(202);
    const child = Generation.parse(await res.json());
    expect(child).toMatchObject({ parent_id: pub.id, project: null, params: { seed: 99 } });
    expect((await f.call(`/v1/generations/${child.id}`, { key: other.key })).status).toBe(200);
    await expectError(await f.call(`/v1/generations/${child.id}`), 404, "not_found_error");
    await expectError(
      await f.call(`/v1/generations/${priv.id}/refine`, {
        method: "POST",
        key: other.key,
        json: {},
      }),
      404,
      "not_found_error",
    );
    await expectError(
      await f.call(`/v1/generations/${pub.id}/refine`, {
        method: "POST",
        key: other.key,
        json: { strength: 2 },
      }),
      400,
      "invalid_request_error",
    );
  });
});
