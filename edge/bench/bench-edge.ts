import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Database } from "../../db/client/index.ts";
import { createProject } from "../../db/queries/projects.ts";
import { startEdge, type RunningEdge } from "../entry/node.ts";
import { TEST_SECRETS } from "../testing/edge-fixture.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import {
  ROOMY_TEST_PLAN,
  seedAccount,
  seedModel,
  seedRegions,
  seedRoomyPlan,
} from "../testing/seed.ts";
import { assetThroughput, type ServedAsset } from "./asset-bench.ts";
import { distantDatabase, inProcessDatabase, type BenchDatabase } from "./bench-database.ts";
import { meterPglite } from "./measure.ts";
import { submitLatency, submitTargets, submitThroughput } from "./submit-bench.ts";
import { workerRoundTrips } from "./worker-round-trips.ts";

// npm run bench:edge — in one Node process on loopback, what the Node edge adds to a submit over a
// signed job posted straight to a region stand-in that answers 202 at once:
//  1. with the embedded database (PGlite in the edge's process);
//  2. with a database over the Postgres wire (a PostgreSQL server when this machine has one) at a
//     simulated distance of 0, 50 and 200 ms per round trip (db/local/distance-proxy.ts), round
//     trips per submit counted; submits/s and the edge's CPU per submit at 0 ms;
//  3. the round trips of a submit on the Worker path (workerd under wrangler dev, Neon driver);
//  4. cached public asset GETs through the edge vs a bare handler serving the same bytes.
// Every figure is a ratio or difference against a baseline measured in the same run.

const env = process.env;
const SAMPLES = Number(env.BENCH_SAMPLES ?? 600);
const WARMUP = 100;
const CONCURRENCY = 16;
const DURATION_MS = Number(env.BENCH_DURATION_MS ?? 3_000);
/** Simulated database round trips; samples at each shrink with the distance (time, not count). */
const RTTS = (env.BENCH_RTTS ?? "0,50,200").split(",").map(Number);
const samplesAt = (rtt: number) => (rtt === 0 ? SAMPLES : rtt <= 50 ? 60 : 30);
const WORKER = env.BENCH_WORKER !== "0";
const WORKER_SUBMITS = 10;
const ROUNDS = 3;

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

interface Setup {
  region: RegionStandIn;
  edge: RunningEdge;
  key: string;
  accountId: string;
  close(): Promise<void>;
}

/** A stand-in region and a Node edge over `database`, seeded; one job sent, for the direct target. */
async function setUp(database: BenchDatabase, handleDb?: Database): Promise<Setup> {
  const region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
    mode: { kind: "accept", estimatedWaitMs: 10 },
  });
  const db = database.admin;
  await seedModel(db);
  await seedRegions(db, [region.config]);
  await seedRoomyPlan(db);
  const owner = await seedAccount(db, { plan: ROOMY_TEST_PLAN.id });
  const assetsDir = await mkdtemp(join(tmpdir(), "bench-edge-"));
  let logged = 0;
  const edge = await startEdge({
    port: 0,
    ...(handleDb ? { db: handleDb } : { databaseUrl: database.edgeUrl! }),
    regions: [region.config],
    assetsDir,
    secrets: TEST_SECRETS,
    environment: "development",
    // Serialised like production logs, not written: the bench measures the edge, not the terminal.
    log: (entry) => void (logged += JSON.stringify(entry).length),
    // The stand-in sends no heartbeats: a sweep would take every job back as lost. Not measured.
    tuning: { sweepIntervalMs: 3_600_000 },
    env: {},
  });
  const first = await fetch(`${edge.url}/v1/generations`, {
    method: "POST",
    headers: { authorization: `Bearer ${owner.key}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt: "warm up", seed: 1 }),
  });
  if (first.status !== 202) throw new Error(`setup submit: ${first.status} ${await first.text()}`);
  return {
    region,
    edge,
    key: owner.key,
    accountId: owner.account.id,
    async close() {
      await edge.close();
      await region.close();
      await rm(assetsDir, { recursive: true, force: true });
    },
  };
}

/** A finished generation's output on its signed URL, and the bytes and headers served. */
async function completedAsset(
  setup: Setup,
  prompt: string,
  project?: string,
): Promise<ServedAsset> {
  const { region, edge, key } = setup;
  region.mode = {
    kind: "complete",
    bytes: new TextEncoder().encode(`${prompt} pixels `.repeat(1_300).slice(0, 26_000)),
  };
  const created = await fetch(`${edge.url}/v1/generations`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      prefer: "wait=10",
    },
    body: JSON.stringify({ prompt, seed: 1, ...(project && { project }) }),
  });
  const done = (await created.json()) as { status: string; output?: { url: string } };
  if (done.status !== "succeeded" || !done.output)
    throw new Error(`setup: ${JSON.stringify(done)}`);
  region.mode = { kind: "accept", estimatedWaitMs: 10 };
  const url = new URL(done.output.url);
  const res = await fetch(`${edge.url}${url.pathname}${url.search}`);
  return {
    path: url.pathname + url.search,
    bytes: new Uint8Array(await res.arrayBuffer()),
    headers: Object.fromEntries(
      ["content-type", "etag", "cache-control"].map((h) => [h, res.headers.get(h) ?? ""]),
    ),
  };
}

async function embedded() {
  const database = await inProcessDatabase();
  const meter = meterPglite(database.handle.db.$client);
  const setup = await setUp(database, database.handle.db);
  try {
    const gallery = await createProject(database.admin, {
      accountId: setup.accountId,
      name: "bench gallery",
      visibility: "public",
    });
    const publicAsset = await completedAsset(setup, "bench harbour", gallery.id);
    const privateAsset = await completedAsset(setup, "bench lighthouse");
    const targets = submitTargets(setup.edge.url, setup.key, setup.region);
    const latency = await submitLatency(targets, { samples: SAMPLES, warmup: WARMUP, meter });
    const rates = await submitThroughput(targets, {
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS,
    });
    const assets = await assetThroughput(
      setup.edge.url,
      { public: publicAsset, private: privateAsset },
      { concurrency: CONCURRENCY, durationMs: DURATION_MS, rounds: ROUNDS },
    );
    return { latency, throughput: rates, assets };
  } finally {
    await setup.close();
    await database.close();
  }
}

async function distant() {
  const database = await distantDatabase();
  const setup = await setUp(database);
  try {
    const targets = submitTargets(setup.edge.url, setup.key, setup.region);
    const byRtt: Record<string, Awaited<ReturnType<typeof submitLatency>>> = {};
    let rates: Awaited<ReturnType<typeof submitThroughput>> | null = null;
    for (const rtt of RTTS) {
      database.distance.setRoundTripMs(rtt);
      const samples = samplesAt(rtt);
      byRtt[`${rtt}ms`] = await submitLatency(targets, {
        samples,
        warmup: Math.min(WARMUP, samples),
        distance: database.distance,
      });
      if (rtt === 0) {
        rates = await submitThroughput(targets, {
          concurrency: CONCURRENCY,
          durationMs: DURATION_MS,
        });
      }
    }
    return {
      database: database.kind,
      latency: byRtt,
      // Added latency in round trips: what a submit waits on the database for, at each distance.
      critical_path_round_trips: Object.fromEntries(
        RTTS.filter((rtt) => rtt > 0).map((rtt) => [
          `${rtt}ms`,
          round(byRtt[`${rtt}ms`]!.added.p50_ms / rtt, 1),
        ]),
      ),
      throughput: rates,
    };
  } finally {
    await setup.close();
    await database.close();
  }
}

async function main() {
  const load = loadavg();
  const started = Date.now();
  const inProcess = await embedded();
  const overWire = await distant();
  const worker = WORKER ? await workerRoundTrips({ submits: WORKER_SUBMITS }) : null;
  const targets = {
    added_p50_le_2ms: inProcess.latency.added.p50_ms <= 2,
    added_p99_le_10ms: inProcess.latency.added.p99_ms <= 10,
    postgres_added_p50_le_2ms: (overWire.latency["0ms"]?.added.p50_ms ?? Infinity) <= 2,
    postgres_added_p99_le_10ms: (overWire.latency["0ms"]?.added.p99_ms ?? Infinity) <= 10,
    submits_per_core_ge_1000: (overWire.throughput?.submits_per_core_s ?? 0) >= 1_000,
    ...Object.fromEntries(
      RTTS.filter((rtt) => rtt > 0).map((rtt) => [
        `added_p50_at_${rtt}ms_le_rtt_plus_3ms`,
        overWire.latency[`${rtt}ms`]!.added.p50_ms <= rtt + 3,
      ]),
    ),
    asset_ge_0_9_of_bare: inProcess.assets.edge_over_bare >= 0.9,
  };
  const results = {
    at: new Date(started).toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadavg_before: load.map((l) => round(l)),
    loadavg_after: loadavg().map((l) => round(l)),
    samples: SAMPLES,
    concurrency: CONCURRENCY,
    duration_ms: DURATION_MS,
    embedded: inProcess,
    distant: overWire,
    worker,
    targets,
  };
  console.log(JSON.stringify(results, null, 2));
  await mkdir("bench-results", { recursive: true });
  await writeFile("bench-results/edge.json", JSON.stringify(results, null, 2) + "\n");
}

await main();
