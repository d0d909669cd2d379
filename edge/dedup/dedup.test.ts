import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { Generation } from "../../contracts/api.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import { ledgerOf } from "../../db/queries/usage-ledger.ts";
import { generations } from "../../db/schema/generations.ts";
import { createEdge } from "../app.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { deliverEvent, failedEvent, runningEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { seedAccount } from "../testing/seed.ts";

// Dedup cache and in-flight merge through the real app (each test uses prompts of its own, so one
// test's stored outputs never answer another's). The region stand-in accepts jobs and
// leaves them queued until the test posts their events: a region as slow as the test wants.

let f: EdgeFixture;
let region: RegionStandIn;

beforeAll(async () => {
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({ regions: [region.config] });
});
afterAll(async () => {
  await f.close();
  await region.close();
});
beforeEach(() => {
  region.jobs.length = 0;
});

const submit = (json: object, headers: Record<string, string> = {}, key?: string) =>
  f.call("/v1/generations", {
    method: "POST",
    json,
    headers,
    ...(key !== undefined && { key }),
  });
const read = async (id: string) =>
  Generation.parse(await (await f.call(`/v1/generations/${id}`)).json());
const event = (e: Parameters<typeof deliverEvent>[2]) =>
  deliverEvent(f.app, TEST_SECRETS.regionSigning, e);
const ledgerSum = async (id: string) =>
  (await ledgerOf(f.db, id)).reduce((sum, e) => sum + e.amountMicrousd, 0);

describe("dedup: identical seeded requests are answered from storage", () => {
  it("same model version, normalised prompt, seed and size -> the stored asset, cached, at zero cost", async () => {
    const prompt = "A  Quiet\u200b Harbour";
    const first = await submit({ prompt, seed: 7, negative_prompt: "Text", width: 256 });
    expect(first.status).toBe(202);
    expect(first.headers.get("cache-status")).toBe("genart; fwd=miss");
    const original = Generation.parse(await first.json());
    await event(succeededEvent(region.jobs[0]!, "eu-west", new Uint8Array([9, 9, 9]), 30));
    const stored = await read(original.id);

    const again = await submit({
      prompt: `  ${prompt.toLowerCase().replace("\u200b", "")}\t`.replace("  ", " "),
      seed: 7,
      negative_prompt: " TEXT ",
      width: 256,
      priority: "relax",
    });
    expect(again.status).toBe(200);
    expect(again.headers.get("cache-status")).toBe("genart; hit");
    const cached = Generation.parse(await again.json());
    expect(cached.id).not.toBe(original.id);
    expect(cached).toMatchObject({
      status: "succeeded",
      cached: true,
      region: "eu-west",
      params: { seed: 7, width: 256, priority: "relax" },
      cost: { estimated_usd: 0, actual_usd: 0, gpu_ms: 0 },
      output: { sha256: stored.output!.sha256, bytes: 3 },
    });
    // The same content-addressed asset, no second job, nothing in the ledger.
    expect(new URL(cached.output!.url).pathname).toBe(new URL(stored.output!.url).pathname);
    expect(region.jobs).toHaveLength(1);
    // No charge and no hold: one `cached` row of 0 that says what the answer saved (usage counts it).
    expect(await ledgerOf(f.db, cached.id)).toMatchObject([
      { kind: "cached", amountMicrousd: 0, savedMicrousd: 30 },
    ]);
    expect(await ledgerSum(original.id)).toBe(30);
  });

  it("a different seed, size, negative prompt or prompt wording is a miss", async () => {
    const prompt = "lanterns";
    const base = { prompt, seed: 1, width: 128, height: 128 };
    await submit(base);
    await event(succeededEvent(region.jobs[0]!, "eu-west", new Uint8Array([1]), 5));
    for (const change of [
      { seed: 2 },
      { width: 192 },
      { negative_prompt: "fog" },
      { prompt: `${prompt} at night` },
    ]) {
      const res = await submit({ ...base, ...change });
      expect(res.status).toBe(202);
      expect(res.headers.get("cache-status")).toBe("genart; fwd=miss");
    }
    expect(region.jobs).toHaveLength(5);
  });

  it('opting out: "cache": false, Cache-Control: no-cache or no seed each run their own job', async () => {
    const prompt = "kites";
    await submit({ prompt, seed: 3 });
    // Identical work is in flight, but these ask not to share it.
    const optOut = await submit({ prompt, seed: 3, cache: false });
    expect(optOut.headers.get("cache-status")).toBe("genart; fwd=request");
    const noCache = await submit({ prompt, seed: 3 }, { "cache-control": "max-age=0, no-cache" });
    expect(noCache.headers.get("cache-status")).toBe("genart; fwd=request");
    expect(region.jobs).toHaveLength(3);
    // Nor a stored answer.
    await event(succeededEvent(region.jobs[0]!, "eu-west", new Uint8Array([2]), 5));
    const noStore = await submit({ prompt, seed: 3 }, { "cache-control": "no-store" });
    expect(noStore.headers.get("cache-status")).toBe("genart; fwd=request");
    const random = await submit({ prompt });
    expect(random.headers.get("cache-status")).toBe("genart; fwd=bypass");
    expect([optOut, noCache, noStore, random].map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect(region.jobs).toHaveLength(5);
  });

  it("is scoped to the account: another tenant's identical request runs its own job", async () => {
    const prompt = "orchard";
    await submit({ prompt, seed: 5 });
    await event(succeededEvent(region.jobs[0]!, "eu-west", new Uint8Array([3]), 5));
    const stranger = await seedAccount(f.db);
    const theirs = await submit({ prompt, seed: 5 }, {}, stranger.key);
    expect(theirs.status).toBe(202);
    expect(theirs.headers.get("cache-status")).toBe("genart; fwd=miss");
    expect(region.jobs).toHaveLength(2);
  });
});

describe("in-flight merge: an identical request attaches to the one still running", () => {
  it("gets its own generation, runs no job, shows the leader's progress and ends with its output", async () => {
    const body = { prompt: "slow harbour", seed: 11 };
    const leader = Generation.parse(await (await submit(body)).json());
    const waiting = submit(body, { prefer: "wait=10" });
    const follower = await submit({ ...body, metadata: { mine: "yes" } });
    expect(follower.status).toBe(202);
    expect(follower.headers.get("cache-status")).toBe("genart; fwd=miss; collapsed");
    const mine = Generation.parse(await follower.json());
    expect(mine).toMatchObject({ status: "queued", cached: false, metadata: { mine: "yes" } });
    expect(mine.id).not.toBe(leader.id);
    expect(region.jobs).toHaveLength(1);

    await event(runningEvent(region.jobs[0]!, "eu-west"));
    expect(await read(mine.id)).toMatchObject({ status: "running", region: "eu-west" });
    await event(succeededEvent(region.jobs[0]!, "eu-west", new Uint8Array([4, 2]), 25));

    const waited = await waiting;
    expect(waited.status).toBe(200);
    const done = await read(mine.id);
    const leaderDone = await read(leader.id);
    for (const g of [Generation.parse(await waited.json()), done]) {
      expect(g).toMatchObject({
        status: "succeeded",
        cached: true,
        cost: { actual_usd: 0, gpu_ms: 0 },
        output: { sha256: leaderDone.output!.sha256 },
      });
    }
    expect(leaderDone).toMatchObject({ cached: false, cost: { gpu_ms: 25 } });
    // The follower held a reservation like any queued generation; it settled at zero.
    expect(await ledgerOf(f.db, mine.id)).toMatchObject([{ kind: "reserve" }, { kind: "settle" }]);
    expect(await ledgerSum(mine.id)).toBe(0);
    expect(await ledgerSum(leader.id)).toBe(25);
  });

  it("10 concurrent identical requests start exactly one GPU job", async () => {
    const body = { prompt: "crowded market", seed: 99 };
    const responses = await Promise.all(Array.from({ length: 10 }, () => submit(body)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
    const ids = new Set(
      await Promise.all(responses.map(async (r) => Generation.parse(await r.json()).id)),
    );
    expect(ids.size).toBe(10);
    expect(region.jobs).toHaveLength(1);
    await event(succeededEvent(region.jobs[0]!, "eu-west", new Uint8Array([7]), 10));
    const states = await Promise.all([...ids].map(read));
    expect(states.map((g) => g.status)).toEqual(Array(10).fill("succeeded"));
    expect(states.filter((g) => g.cached)).toHaveLength(9);
  });

  it("followers fail the way their leader failed", async () => {
    const body = { prompt: "rainy pier", seed: 12 };
    await submit(body);
    const follower = Generation.parse(await (await submit(body)).json());
    await event(failedEvent(region.jobs[0]!, "eu-west", false, "model_crashed"));
    expect(await read(follower.id)).toMatchObject({
      status: "failed",
      error: { code: "model_crashed" },
    });
    expect(await ledgerOf(f.db, follower.id)).toMatchObject([
      { kind: "reserve" },
      { kind: "refund" },
    ]);
    expect(await ledgerSum(follower.id)).toBe(0);
  });

  it("when the leader is canceled, a follower takes the work over with its own job", async () => {
    const body = { prompt: "handover", seed: 13 };
    const leader = Generation.parse(await (await submit(body)).json());
    const [a, b] = await Promise.all(
      [1, 2].map(async () => Generation.parse(await (await submit(body)).json())),
    );
    expect(region.jobs).toHaveLength(1);

    expect((await f.call(`/v1/generations/${leader.id}/cancel`, { method: "POST" })).status).toBe(
      200,
    );
    expect(region.jobs).toHaveLength(2);
    const takeover = region.jobs[1]!;
    const promoted = [a!, b!].find((g) => g.id === takeover.job_id)!;
    const other = [a!, b!].find((g) => g.id !== takeover.job_id)!;
    expect(await getGeneration(f.db, promoted.id)).toMatchObject({
      mergedIntoGenerationId: null,
      region: "eu-west",
    });
    expect(await getGeneration(f.db, other.id)).toMatchObject({
      mergedIntoGenerationId: promoted.id,
    });

    await event(succeededEvent(takeover, "eu-west", new Uint8Array([5]), 8));
    expect(await read(promoted.id)).toMatchObject({ status: "succeeded", cached: false });
    expect(await read(other.id)).toMatchObject({ status: "succeeded", cached: true });
    expect(await ledgerSum(leader.id)).toBe(0);
  });
});

describe("Idempotency-Key: remembered for 24 hours", () => {
  /** A second app over the same database: an isolate that never saw the requests before. */
  const otherIsolate = () => {
    const { app } = createEdge({
      db: f.db,
      assets: f.assets,
      regions: [region.config],
      environment: "development",
      publicUrl: "http://localhost",
      secrets: TEST_SECRETS,
      log: () => {},
    });
    return (json: object, headers: Record<string, string>) =>
      app.request("/v1/generations", {
        method: "POST",
        headers: {
          ...headers,
          authorization: `Bearer ${f.owner.key}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(json),
      });
  };

  it("replays within 24 h; after that the key starts a new generation", async () => {
    const headers = { "idempotency-key": `order-${crypto.randomUUID()}` };
    const body = { prompt: "ledger" };
    const first = Generation.parse(await (await submit(body, headers)).json());
    const replay = await submit(body, headers);
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await replay.json()).id).toBe(first.id);

    // The first request is now 24 h and a second old (as the database records it; an isolate's
    // memory of the key ages with its clock, see replay-cache.test.ts).
    await f.db
      .update(generations)
      .set({ createdAt: new Date(Date.now() - 24 * 3_600_000 - 1_000) })
      .where(eq(generations.id, first.id));
    const send = otherIsolate();
    const later = await send({ prompt: "a different body is fine now" }, headers);
    expect(later.status).toBe(202);
    const second = Generation.parse(await later.json());
    expect(second.id).not.toBe(first.id);
    expect(region.jobs).toHaveLength(2);
    expect(await getGeneration(f.db, first.id)).toMatchObject({ idempotencyKey: null });
    // The key now belongs to the new generation.
    expect((await (await send({ prompt: "other" }, headers)).json()).error.type).toBe(
      "idempotency_error",
    );
  });

  it("a replay reaching an isolate that never saw the key is answered from the database", async () => {
    const headers = { "idempotency-key": `order-${crypto.randomUUID()}` };
    const body = { prompt: "two isolates", seed: 3 };
    const first = Generation.parse(await (await submit(body, headers)).json());
    const replay = await otherIsolate()(body, headers);
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await replay.json()).id).toBe(first.id);
    expect(region.jobs).toHaveLength(1);
  });
});
