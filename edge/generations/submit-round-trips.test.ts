import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { createDatabase, type DatabaseHandle } from "../../db/client/index.ts";
import { startDistanceProxy, type DistanceProxy } from "../../db/local/distance-proxy.ts";
import { startWireGateway, type WireGateway } from "../../db/local/wire-gateway.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { createEdge } from "../app.ts";
import { BackgroundTasks } from "../lib/background-tasks.ts";
import { TEST_SECRETS } from "../testing/edge-fixture.ts";
import { deliverEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import {
  ROOMY_TEST_PLAN,
  seedAccount,
  seedModel,
  seedRegions,
  seedRoomyPlan,
} from "../testing/seed.ts";

// What a submit waits on from a database far away: the edge runs over node-postgres through the
// distance proxy (40 ms a round trip), and the round trips answered by the time the submit is
// answered are the ones it waited for (work written behind the answer is still on its way).

const RTT_MS = 40;
// The isolates' clock: the age of their copies of keys, regions, prices and budgets is the test's
// to set (a copy past half its life is read again behind the request, and counted here with it).
let now = Date.now();
let pglite: PgliteHandle;
let gateway: WireGateway;
let distance: DistanceProxy;
let far: DatabaseHandle;
let near: DatabaseHandle;
let region: RegionStandIn;
let assetsDir: string;
let key: string;

beforeAll(async () => {
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
    mode: { kind: "accept", estimatedWaitMs: 10 },
  });
  pglite = await createTestDatabase();
  await seedModel(pglite.db);
  await seedRegions(pglite.db, [region.config]);
  await seedRoomyPlan(pglite.db);
  key = (await seedAccount(pglite.db, { plan: ROOMY_TEST_PLAN.id })).key;
  gateway = await startWireGateway(pglite.db.$client);
  const url = new URL(gateway.postgresUrl);
  distance = await startDistanceProxy({
    target: { host: url.hostname, port: Number(url.port) },
    roundTripMs: RTT_MS,
  });
  far = await createDatabase(distance.via(gateway.postgresUrl));
  // Checks read the database without the distance, while the edge's writes are still on their way.
  near = await createDatabase(gateway.postgresUrl);
  assetsDir = await mkdtemp(join(tmpdir(), "edge-round-trips-"));
});

afterAll(async () => {
  await far?.close();
  await near?.close();
  await distance?.close();
  await gateway?.close();
  await pglite?.close();
  await region?.close();
  if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
});

/** An isolate of the edge over the far database (each its own caches and limiter). */
function isolate() {
  const tasks = new BackgroundTasks();
  const { app } = createEdge({
    db: far.db,
    assets: new FsObjectStore(assetsDir),
    regions: [region.config],
    environment: "development",
    publicUrl: "http://localhost",
    secrets: TEST_SECRETS,
    log: () => {},
    waitUntil: tasks.add,
    clock: () => now,
  });
  /** The answer, and the database round trips it waited for. */
  const submit = async (body: object, headers: Record<string, string> = {}) => {
    const before = distance.stats();
    const res = await app.request("/v1/generations", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    const waited = distance.stats().answered - before.answered;
    return { res, waited, generation: Generation.parse(await res.json()) };
  };
  return { submit, tasks, app };
}

describe("a submit far from its database", () => {
  it("waits on one round trip, and the row names its region and job before the answer", async () => {
    const edge = isolate();
    // A cold isolate reads the key, model, regions, prices, budgets and ledger once.
    expect((await edge.submit({ prompt: "warm up", seed: 1 })).res.status).toBe(202);
    await edge.tasks.drain(5_000);

    const { res, waited, generation } = await edge.submit({ prompt: "one trip", seed: 2 });
    expect(res.status).toBe(202);
    expect(waited).toBe(1);
    expect(generation).toMatchObject({ region: "eu-west", routing: { region: "eu-west" } });
    // Read at once, before the outcome written behind the answer arrives: the intended route.
    const stored = await getGeneration(near.db, generation.id);
    expect(stored).toMatchObject({
      status: "queued",
      region: "eu-west",
      jobId: generation.id,
      routing: { region: null, job_id: generation.id },
    });
    await edge.tasks.drain(5_000);
    expect(await getGeneration(near.db, generation.id)).toMatchObject({
      region: "eu-west",
      routing: { region: "eu-west", job_id: generation.id },
      estimatedWaitMs: 10,
    });
  });

  it("reads its copies again behind the answer past half their life: steady traffic never waits", async () => {
    const edge = isolate();
    expect((await edge.submit({ prompt: "warm up", seed: 7 })).res.status).toBe(202);
    await edge.tasks.drain(5_000);
    // Past half of the 5 s the copies of regions, prices, budgets and the model are kept for:
    // answered from them (refresh-ahead.test.ts: the answer does not wait for the re-reads), one
    // read of each started behind it.
    now += 3_000;
    expect((await edge.submit({ prompt: "steady", seed: 8 })).res.status).toBe(202);
    await edge.tasks.drain(5_000);
    // 5 s after the first reads, when those copies would have run out: the new ones answer.
    now += 2_000;
    const after = await edge.submit({ prompt: "steady", seed: 9 });
    expect(after.res.status).toBe(202);
    expect(after.waited).toBe(1);
    await edge.tasks.drain(5_000);
  });

  it("waits on none for a replay this isolate answered, on one for a replay it never saw", async () => {
    const edge = isolate();
    const headers = { "idempotency-key": `bench-${crypto.randomUUID()}` };
    const first = await edge.submit({ prompt: "replay", seed: 3 }, headers);
    await edge.tasks.drain(5_000);
    const again = await edge.submit({ prompt: "replay", seed: 3 }, headers);
    expect(again.res.status).toBe(200);
    expect(again.generation.id).toBe(first.generation.id);
    expect(again.waited).toBe(0);

    const other = isolate();
    await other.submit({ prompt: "warm up", seed: 4 });
    await other.tasks.drain(5_000);
    const elsewhere = await other.submit({ prompt: "replay", seed: 3 }, headers);
    expect(elsewhere.res.headers.get("idempotent-replayed")).toBe("true");
    expect(elsewhere.generation.id).toBe(first.generation.id);
    expect(elsewhere.waited).toBe(1);
  });

  it("waits on one for identical work it saw succeed, on two for work it never saw", async () => {
    const edge = isolate();
    const done = await edge.submit({ prompt: "dedup", seed: 5 });
    const job = region.jobs.find((j) => j.job_id === done.generation.id)!;
    const bytes = new TextEncoder().encode("pixels");
    expect(
      (
        await deliverEvent(
          edge.app,
          TEST_SECRETS.regionSigning,
          succeededEvent(job, "eu-west", bytes),
        )
      ).status,
    ).toBe(200);
    await edge.tasks.drain(5_000);
    const hit = await edge.submit({ prompt: "dedup", seed: 5 });
    expect(hit.res.headers.get("cache-status")).toBe("genart; hit");
    expect(hit.generation).toMatchObject({ status: "succeeded", cached: true });
    expect(hit.waited).toBe(1);

    const other = isolate();
    await other.submit({ prompt: "warm up", seed: 6 });
    await other.tasks.drain(5_000);
    const unseen = await other.submit({ prompt: "dedup", seed: 5 });
    expect(unseen.res.headers.get("cache-status")).toBe("genart; hit");
    expect(unseen.generation).toMatchObject({ status: "succeeded", cached: true });
    expect(unseen.waited).toBe(2);
    // And now it has seen it.
    const again = await other.submit({ prompt: "dedup", seed: 5 });
    expect(again.waited).toBe(1);
    await other.tasks.drain(5_000);
  });
});
