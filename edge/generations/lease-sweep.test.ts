import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import type { HeldJobs, RegionJob } from "../../contracts/region-protocol.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import { generations } from "../../db/schema/generations.ts";
import { regions as regionsTable } from "../../db/schema/regions.ts";
import { usageLedger } from "../../db/schema/usage-ledger.ts";
import { webhookDeliveries } from "../../db/schema/webhook-deliveries.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { deliverHeartbeat, idleHeartbeat } from "../testing/heartbeats.ts";
import { deliverEvent, runningEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { TEST_MODEL } from "../testing/seed.ts";

// Leases on dispatched jobs, against real signed stand-in regions that accept jobs and then say
// nothing unless told to: a job whose region goes silent, forgets it or lets its lease run out is
// taken back and run elsewhere, with exactly one outcome, one charge and one webhook.

const SECRET = TEST_SECRETS.regionSigning;
const WARM = [`${TEST_MODEL.name}@${TEST_MODEL.version}`];
const PARIS = { "x-client-lat": "48.85", "x-client-lon": "2.35" };

let f: EdgeFixture;
let eu: RegionStandIn;
let us: RegionStandIn;
/**
 * The edge's clock runs this far ahead of the real one; it only ever moves forward, as a clock
 * should (signatures, made on the real clock, stay within their 5-minute tolerance).
 */
let offsetMs = 0;
const advance = (ms: number) => {
  offsetMs += ms;
};
/** Moves the edge's clock to `at` (edge time), unless it is already past it. */
const advanceTo = (at: number) => {
  offsetMs = Math.max(offsetMs, at - Date.now());
};

beforeAll(async () => {
  eu = await startRegionStandIn({ name: "eu-west", lat: 53.35, lon: -6.26, secret: SECRET });
  us = await startRegionStandIn({ name: "us-east", lat: 39.04, lon: -77.49, secret: SECRET });
  f = await createEdgeFixture({
    regions: [eu.config, us.config],
    clock: () => Date.now() + offsetMs,
    tuning: { maxDispatchAttempts: 3, breakerThreshold: 1_000 },
  });
});
afterAll(async () => {
  await f?.close();
  await eu?.close();
  await us?.close();
});
beforeEach(async () => {
  eu.mode = { kind: "accept", estimatedWaitMs: 1_000 };
  us.mode = { kind: "accept", estimatedWaitMs: 1_000 };
  await beat("eu-west");
  await beat("us-east");
});

/** A heartbeat from `region`'s node, listing `holds` when given; waits for what it set off. */
async function beat(region: string, holds?: HeldJobs) {
  const res = await deliverHeartbeat(
    f.app,
    SECRET,
    idleHeartbeat(region, WARM, {
      at: new Date(Date.now() + offsetMs).toISOString(),
      ...(holds && { holds }),
    }),
  );
  expect(res.status).toBe(200);
  await f.tasks.drain(5_000);
}

let seed = 0;
async function submit(json: object = {}) {
  const res = await f.call("/v1/generations", {
    method: "POST",
    headers: PARIS,
    json: { prompt: "a quiet harbour at dawn", seed: ++seed, ...json },
  });
  expect(res.status).toBe(202);
  const gen = Generation.parse(await res.json());
  expect(gen.region).toBe("eu-west");
  return { id: gen.id, job: eu.jobs.find((j) => j.job_id === gen.id)! };
}

const row = async (id: string) => (await getGeneration(f.db, id))!;
const ledger = async (id: string) =>
  (await f.db.select().from(usageLedger).where(eq(usageLedger.generationId, id)))
    .map((e) => e.kind)
    .sort();
const webhooks = async (id: string) =>
  (await f.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.generationId, id))).map(
    (d) => d.event,
  );
const jobOf = (region: RegionStandIn, jobId: string) =>
  region.jobs.find((j) => j.job_id === jobId) as RegionJob;
const counters = async (name: string) =>
  (await f.db.select().from(regionsTable).where(eq(regionsTable.name, name)))[0]!;

describe("a region that accepts a job and never answers", () => {
  it("loses it when the lease runs out: the job runs elsewhere, one charge, one webhook", async () => {
    const { id } = await submit({ webhook: { url: "https://hooks.example/x" } });
    const lease = (await row(id)).leaseExpiresAt!.getTime();
    // Just before the deadline nothing happens; just after, the job goes to the other region.
    advanceTo(lease - 1_000);
    await beat("eu-west");
    await beat("us-east");
    await f.sweep();
    expect(await row(id)).toMatchObject({ region: "eu-west", jobId: id });
    advanceTo(lease + 1_000);
    await beat("eu-west");
    await beat("us-east");
    const before = await counters("eu-west");
    await f.sweep();
    const moved = await row(id);
    expect(moved).toMatchObject({ status: "queued", region: "us-east", jobId: `${id}.2` });
    expect(moved.attempts).toMatchObject([
      { region: "eu-west", job_id: id, reason: "lease_expired" },
    ]);
    expect(await counters("eu-west")).toMatchObject({
      redispatches: before.redispatches + 1,
      leaseExpiries: before.leaseExpiries + 1,
    });
    // The silent region is told to drop it, so it spends no GPU time on it.
    await f.tasks.drain(5_000);
    expect(eu.cancels).toContain(id);
    expect(f.logs.some((l) => l.msg === "generation redispatched" && l.generation_id === id)).toBe(
      true,
    );

    const second = jobOf(us, `${id}.2`);
    await deliverEvent(f.app, SECRET, succeededEvent(second, "us-east", new Uint8Array([7])));
    expect(await row(id)).toMatchObject({ status: "succeeded", region: "us-east" });
    // The first region's late result changes nothing: no second charge, no second webhook.
    const late = await deliverEvent(
      f.app,
      SECRET,
      succeededEvent(jobOf(eu, id), "eu-west", new Uint8Array([9])),
    );
    expect(await late.json()).toMatchObject({ outcome: "ignored" });
    expect(await ledger(id)).toEqual(["reserve", "settle"]);
    expect(await webhooks(id)).toEqual(["succeeded"]);
    const gen = Generation.parse(await (await f.call(`/v1/generations/${id}`)).json());
    expect(gen.attempts.map((a) => [a.region, a.reason])).toEqual([
      ["eu-west", "lease_expired"],
      ["us-east", null],
    ]);
  });
});

describe("heartbeats renew leases and reveal forgotten jobs", () => {
  it("extends the lease of every job a heartbeat lists", async () => {
    const { id } = await submit();
    const first = (await row(id)).leaseExpiresAt!.getTime();
    advanceTo(first - 5_000);
    await beat("eu-west", { scope: "region", jobs: [id], complete: true });
    expect((await row(id)).leaseExpiresAt!.getTime()).toBeGreaterThan(first);
    expect(await row(id)).toMatchObject({ region: "eu-west", jobId: id });
  });

  it("takes a job back at once when a complete list leaves it out (a restarted region)", async () => {
    const { id } = await submit();
    // A list that may predate the job proves nothing ...
    await beat("eu-west", { scope: "region", jobs: [], complete: true });
    expect(await row(id)).toMatchObject({ region: "eu-west" });
    // ... nor does an incomplete one; a complete one sent after the grace does.
    advance(f.services.tuning.leaseGraceMs + 1_000);
    await beat("eu-west", { scope: "region", jobs: ["gen_other"], complete: false });
    expect(await row(id)).toMatchObject({ region: "eu-west" });
    await beat("eu-west", { scope: "region", jobs: [], complete: true });
    const moved = await row(id);
    expect(moved).toMatchObject({ region: "us-east", jobId: `${id}.2` });
    expect(moved.attempts).toMatchObject([{ reason: "job_forgotten" }]);
  });

  it("judges a list by when the node took it, not by when a busy edge got to read it", async () => {
    const { id } = await submit();
    const routedAt = (await row(id)).routedAt!.getTime();
    advance(f.services.tuning.leaseGraceMs + 5_000);
    // Taken before the job reached the node, arriving late: it proves nothing about the job.
    const stale = {
      ...idleHeartbeat("eu-west", WARM),
      at: new Date(routedAt - 1_000).toISOString(),
      holds: { scope: "region" as const, jobs: [], complete: true },
    };
    expect((await deliverHeartbeat(f.app, SECRET, stale)).status).toBe(200);
    await f.tasks.drain(5_000);
    expect(await row(id)).toMatchObject({ region: "eu-west", jobId: id });
  });

  it("a node's list speaks only for the jobs that node holds", async () => {
    eu.mode = { kind: "accept", estimatedWaitMs: 1_000 };
    const { id } = await submit();
    await f.db
      .update(generations)
      .set({ leaseHolder: "eu-west-node-1" })
      .where(eq(generations.id, id));
    advance(f.services.tuning.leaseGraceMs + 1_000);
    const other = { ...idleHeartbeat("eu-west", WARM), node_id: "eu-west-node-2" };
    const res = await deliverHeartbeat(f.app, SECRET, {
      ...other,
      at: new Date(Date.now() + offsetMs).toISOString(),
      holds: { scope: "node", jobs: [], complete: true },
    });
    expect(res.status).toBe(200);
    await f.tasks.drain(5_000);
    expect(await row(id)).toMatchObject({ region: "eu-west", jobId: id });
    await beat("eu-west", { scope: "node", jobs: [], complete: true });
    expect(await row(id)).toMatchObject({ region: "us-east" });
  });
});

describe("a region that goes silent", () => {
  it("has its jobs redispatched one heartbeat TTL after its last word", async () => {
    const { id } = await submit();
    advance(f.services.tuning.heartbeatTtlMs + 2_000);
    await beat("us-east");
    // An edge that has itself just started judges no silence yet.
    await f.sweep({ judgeSilenceFrom: Date.now() + offsetMs + 60_000 });
    expect(await row(id)).toMatchObject({ region: "eu-west", jobId: id });
    await f.sweep();
    expect(await row(id)).toMatchObject({ region: "us-east", jobId: `${id}.2` });
    expect((await row(id)).attempts).toMatchObject([{ reason: "region_down" }]);
  });
});

describe("exactly one outcome", () => {
  it("takes the first result, even from the attempt given up, and drops the one under way", async () => {
    const { id, job } = await submit({ webhook: { url: "https://hooks.example/x" } });
    advance(f.services.tuning.leaseGraceMs + 1_000);
    await beat("eu-west", { scope: "region", jobs: [], complete: true });
    const second = jobOf(us, `${id}.2`);
    await deliverEvent(f.app, SECRET, runningEvent(second, "us-east"));
    // The first region had the job after all: its result arrives first and stands.
    const first = await deliverEvent(
      f.app,
      SECRET,
      succeededEvent(job, "eu-west", new Uint8Array([1])),
    );
    expect(await first.json()).toMatchObject({ outcome: "applied" });
    expect(await row(id)).toMatchObject({ status: "succeeded", region: "eu-west", jobId: id });
    await f.tasks.drain(5_000);
    expect(us.cancels).toContain(`${id}.2`);
    // The second attempt's result, if it comes anyway, is ignored.
    const late = await deliverEvent(
      f.app,
      SECRET,
      succeededEvent(second, "us-east", new Uint8Array([2])),
    );
    expect(await late.json()).toMatchObject({ outcome: "ignored" });
    expect(await ledger(id)).toEqual(["reserve", "settle"]);
    expect(await webhooks(id)).toEqual(["succeeded"]);
    const gen = Generation.parse(await (await f.call(`/v1/generations/${id}`)).json());
    expect(gen.attempts.map((a) => [a.region, a.reason])).toEqual([
      ["eu-west", "job_forgotten"],
      ["us-east", "superseded"],
      ["eu-west", null],
    ]);
  });

  it("refuses events about a job from a region that does not hold it", async () => {
    const { id, job } = await submit();
    const res = await deliverEvent(
      f.app,
      SECRET,
      succeededEvent(job, "us-east", new Uint8Array([3])),
    );
    expect(res.status).toBe(403);
    expect((await res.json()).error).toMatchObject({ code: "job_of_another_region" });
    expect(await row(id)).toMatchObject({ status: "queued", region: "eu-west" });
  });

  it("fails `region_lost` after the last attempt, refunded, with one webhook", async () => {
    const { id } = await submit({ webhook: { url: "https://hooks.example/x" } });
    for (const [attempt, region] of [
      [1, "eu-west"],
      [2, "us-east"],
      [3, "eu-west"],
    ] as const) {
      expect(await row(id)).toMatchObject({
        region,
        jobId: attempt === 1 ? id : `${id}.${attempt}`,
      });
      advance(f.services.tuning.leaseGraceMs + 1_000);
      await beat(region, { scope: "region", jobs: [], complete: true });
    }
    const failed = await row(id);
    expect(failed).toMatchObject({ status: "failed", error: { code: "region_lost" } });
    expect(failed.attempts).toHaveLength(3);
    expect(await ledger(id)).toEqual(["refund", "reserve"]);
    expect(await webhooks(id)).toEqual(["failed"]);
  });
});

describe("waiting for a region", () => {
  it("waits when no region takes the job, and the sweep sends it once one does", async () => {
    const { id } = await submit();
    us.mode = { kind: "busy", status: 503 };
    eu.mode = { kind: "busy", status: 503 };
    advance(f.services.tuning.leaseGraceMs + 1_000);
    await beat("eu-west", { scope: "region", jobs: [], complete: true });
    expect(await row(id)).toMatchObject({ status: "queued", region: null, jobId: null });
    us.mode = { kind: "accept" };
    advance(f.services.tuning.redispatchRetryMs + 1);
    await beat("us-east");
    await f.sweep();
    expect(await row(id)).toMatchObject({ region: "us-east", jobId: `${id}.2` });
  });

  it("stays canceled when canceled while waiting, and a late dispatch answer drops the job", async () => {
    const { id } = await submit();
    us.mode = { kind: "accept", delayMs: 400 };
    advance(f.services.tuning.leaseGraceMs + 1_000);
    const lost = beat("eu-west", { scope: "region", jobs: [], complete: true });
    // While us-east takes its time to answer, the client cancels.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const res = await f.call(`/v1/generations/${id}/cancel`, { method: "POST" });
    expect(res.status).toBe(200);
    await lost;
    await f.tasks.drain(5_000);
    expect(await row(id)).toMatchObject({ status: "canceled" });
    expect(us.cancels).toContain(`${id}.2`);
    expect(await ledger(id)).toEqual(["refund", "reserve"]);
  });

  it("dispatches a row the edge wrote but never got to dispatch (it stopped in between)", async () => {
    const { id } = await submit();
    // As an edge that stopped after writing the row leaves it: queued, no job, lease run out.
    await f.db
      .update(generations)
      .set({
        region: null,
        jobId: null,
        routedAt: null,
        leaseExpiresAt: sql`now() - interval '1 second'`,
      })
      .where(eq(generations.id, id));
    eu.jobs.length = 0;
    us.jobs.length = 0;
    await f.sweep();
    const sent = await row(id);
    expect(sent).toMatchObject({ status: "queued", jobId: id });
    const region = sent.region === "eu-west" ? eu : us;
    expect(region.jobs.map((j) => j.job_id)).toEqual([id]);
  });

  it("gives up after waiting too long for any region, refunded", async () => {
    const { id } = await submit();
    us.mode = { kind: "busy", status: 503 };
    eu.mode = { kind: "busy", status: 503 };
    advance(f.services.tuning.leaseGraceMs + 1_000);
    await beat("eu-west", { scope: "region", jobs: [], complete: true });
    expect(await row(id)).toMatchObject({ status: "queued", region: null });
    await f.db
      .update(generations)
      .set({
        attempts: sql`jsonb_set(${generations.attempts}, '{0,ended_at}', to_jsonb((now() - interval '1 hour')::text))`,
        leaseExpiresAt: sql`now() - interval '1 second'`,
      })
      .where(eq(generations.id, id));
    await f.sweep();
    expect(await row(id)).toMatchObject({ status: "failed", error: { code: "region_lost" } });
    expect(await ledger(id)).toEqual(["refund", "reserve"]);
  });
});
