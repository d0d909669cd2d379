import { testRegionKey } from "../testing/region-keys.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { ErrorBody } from "../../contracts/errors.ts";
import { REGION_PATHS, type JobEvent, type RegionJob } from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { startEdge, type RunningEdge } from "../entry/node.ts";
import { TEST_SECRETS } from "../testing/edge-fixture.ts";
import { runningEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import {
  ROOMY_TEST_PLAN,
  seedAccount,
  seedModel,
  seedRegions,
  seedRoomyPlan,
} from "../testing/seed.ts";
import { readEvents, type EventReader } from "../testing/sse.ts";

// GET /v1/generations/:id/events over real HTTP from the Node entry, with timing: each change
// must reach an open stream within 500 ms, whether it was applied by this edge process (woken at
// once) or by another one sharing the database (found by the stream's re-read).

const DELIVERY_BUDGET_MS = 500;

let handle: PgliteHandle;
let region: RegionStandIn;
let edgeA: RunningEdge;
let edgeB: RunningEdge;
let dir: string;
let key: string;
let otherKey: string;

beforeAll(async () => {
  handle = await createTestDatabase();
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  await seedModel(handle.db);
  await seedRegions(handle.db, [region.config]);
  await seedRoomyPlan(handle.db);
  key = (await seedAccount(handle.db, { plan: ROOMY_TEST_PLAN.id })).key;
  otherKey = (await seedAccount(handle.db, { plan: ROOMY_TEST_PLAN.id })).key;
  dir = await mkdtemp(join(tmpdir(), "edge-events-"));
  const start = (name: string, eventsPollMs: number) =>
    startEdge({
      port: 0,
      db: handle.db,
      regions: [region.config],
      assetsDir: join(dir, name),
      secrets: TEST_SECRETS,
      environment: "development",
      log: () => {},
      env: {},
      shutdownGraceMs: 500,
      tuning: { eventsPollMs },
    });
  // Two edge processes over one database, as two isolates or two servers would be. A re-reads
  // rarely, so its streams meet the budget only through in-process wake-ups; B at the default.
  [edgeA, edgeB] = [await start("a", 10_000), await start("b", 250)];
});
afterAll(async () => {
  await edgeA?.close();
  await edgeB?.close();
  await region?.close();
  await handle?.close();
  await rm(dir, { recursive: true, force: true });
});

async function create(prompt: string): Promise<{ id: string; job: RegionJob }> {
  const res = await fetch(`${edgeA.url}/v1/generations`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt, width: 64, height: 64 }),
  });
  expect(res.status).toBe(202);
  const { id } = Generation.parse(await res.json());
  const job = region.jobs.find((j) => j.job_id === id);
  if (!job) throw new Error(`no job for ${id}`);
  return { id, job };
}

async function open(edge: RunningEdge, id: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${edge.url}/v1/generations/${id}/events`, {
    headers: { authorization: `Bearer ${key}`, ...headers },
  });
  return { res, events: readEvents(res.body!) };
}

/** Posts a region's signed event to `edge`, as the region would; resolves when it was applied. */
async function post(edge: RunningEdge, event: JobEvent): Promise<void> {
  const path = REGION_PATHS.events(event.region);
  const body = JSON.stringify(event);
  const res = await fetch(`${edge.url}${path}`, {
    method: "POST",
    headers: {
      ...(await signRequest(testRegionKey(TEST_SECRETS.regionSigning, event.region), {
        method: "POST",
        path,
        body,
      })),
      "content-type": "application/json",
    },
    body,
  });
  expect(res.status).toBe(200);
}

/**
 * The next event is `type`, and arrived within the budget of the change: the row's updated_at,
 * stamped by the (same-process) edge when it wrote the new state.
 */
async function expectEvent(events: EventReader, type: string, applied: Promise<void>) {
  const [event] = await Promise.all([events.next(5_000), applied]);
  expect(event?.event).toBe(type);
  const generation = Generation.parse(JSON.parse(event!.data));
  const row = await getGeneration(handle.db, generation.id);
  const delayMs = event!.receivedWallAt - row!.updatedAt.getTime();
  // Negative would mean the row changed again after the event: the measure would be void.
  expect(delayMs).toBeGreaterThanOrEqual(-2);
  expect(delayMs).toBeLessThan(DELIVERY_BUDGET_MS);
  return { event: event!, generation, delayMs };
}

describe("GET /v1/generations/:id/events", () => {
  it("streams each change applied by this edge within 500 ms, and ends at the terminal state", async () => {
    const { id, job } = await create("a stream of states");
    const { res, events } = await open(edgeA, id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toContain("no-cache");
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);

    const first = await events.next();
    expect(first?.event).toBe("routed");
    const routed = Generation.parse(JSON.parse(first!.data));
    expect(routed).toMatchObject({ id, status: "queued", region: "eu-west" });
    expect(routed.routing?.candidates[0]).toMatchObject({ region: "eu-west", outcome: "accepted" });

    const running = await expectEvent(events, "running", post(edgeA, runningEvent(job, "eu-west")));
    expect(running.generation).toMatchObject({ status: "running", completed_at: null });
    const bytes = new TextEncoder().encode("png bytes");
    const done = await expectEvent(
      events,
      "succeeded",
      post(edgeA, succeededEvent(job, "eu-west", bytes)),
    );
    expect(done.generation.output).toMatchObject({ bytes: bytes.byteLength });
    expect(done.event.id).toMatch(/^succeeded\./);
    // The stream ends after the terminal event.
    expect(await events.next(2_000)).toBeNull();
  });

  it("delivers changes applied by another edge process sharing the database within 500 ms", async () => {
    const { id, job } = await create("changes from elsewhere");
    // Streamed by B, applied by A: B's in-process wake-up never fires, its re-read finds them.
    const { events } = await open(edgeB, id);
    expect((await events.next())?.event).toBe("routed");
    await expectEvent(events, "running", post(edgeA, runningEvent(job, "eu-west")));
    await expectEvent(
      events,
      "succeeded",
      post(edgeA, succeededEvent(job, "eu-west", new TextEncoder().encode("x"))),
    );
    expect(await events.next(2_000)).toBeNull();
  });

  it("replays what a reconnecting client missed since its Last-Event-ID", async () => {
    const { id, job } = await create("reconnect");
    const first = await open(edgeA, id);
    const routed = await first.events.next();
    await first.events.cancel();
    await post(edgeA, runningEvent(job, "eu-west"));
    await post(edgeA, succeededEvent(job, "eu-west", new TextEncoder().encode("y")));

    const again = await open(edgeA, id, { "last-event-id": routed!.id! });
    const types = [];
    for (let e = await again.events.next(); e; e = await again.events.next()) types.push(e.event);
    expect(types).toEqual(["running", "succeeded"]);
    // A fresh client gets the current state only.
    const fresh = await open(edgeA, id);
    expect((await fresh.events.next())?.event).toBe("succeeded");
    expect(await fresh.events.next()).toBeNull();
  });

  it("keeps a quiet stream alive with comments, and closes it after the longest it may last", async () => {
    const { id } = await create("nothing happens");
    const quiet = await startEdge({
      port: 0,
      db: handle.db,
      regions: [region.config],
      assetsDir: join(dir, "quiet"),
      secrets: TEST_SECRETS,
      environment: "development",
      log: () => {},
      env: {},
      tuning: { eventsKeepAliveMs: 100, eventsMaxStreamMs: 450 },
    });
    try {
      const started = performance.now();
      const { events } = await open(quiet, id);
      expect((await events.next())?.event).toBe("routed");
      // Unfinished, it ends on time; the client (EventSource) reconnects after `retry`.
      expect(await events.next(5_000)).toBeNull();
      expect(performance.now() - started).toBeGreaterThanOrEqual(400);
      expect(events.comments.filter((c) => c === "keep-alive").length).toBeGreaterThanOrEqual(2);
    } finally {
      await quiet.close();
    }
  });

  it("answers 404 envelopes for another account's generation and for unknown ids", async () => {
    const { id } = await create("not yours");
    for (const [path, auth] of [
      [`/v1/generations/${id}/events`, otherKey],
      [`/v1/generations/gen_00000000000000000000000000/events`, key],
      [`/v1/generations/nope/events`, key],
    ] as const) {
      const res = await fetch(`${edgeA.url}${path}`, {
        headers: { authorization: `Bearer ${auth}` },
      });
      expect(res.status).toBe(404);
      expect(ErrorBody.parse(await res.json()).error.code).toBe("generation_not_found");
    }
    const anonymous = await fetch(`${edgeA.url}/v1/generations/${id}/events`);
    expect(anonymous.status).toBe(401);
  });
});
