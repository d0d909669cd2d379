import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { createTestDatabase } from "../../db/testing.ts";
import { startEdge } from "../entry/node.ts";
import { TEST_SECRETS } from "../testing/edge-fixture.ts";
import { startRegionStandIn } from "../testing/region-stand-in.ts";
import {
  ROOMY_TEST_PLAN,
  seedAccount,
  seedModel,
  seedRegions,
  seedRoomyPlan,
} from "../testing/seed.ts";
import { pairedLatency, percentile, throughput, type Target } from "./measure.ts";

// npm run bench:edge — in one process on loopback: (1) what the Node edge adds (auth, moderation,
// limits, routing, dispatch, DB writes on PGlite) over a signed call straight to a region stand-in
// that answers 202 at once; (2) cached asset GETs through the edge vs a bare @hono/node-server
// handler serving the same bytes from memory. Ratios against baselines measured in the same run.

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 600);
const WARMUP = 100;
const CONCURRENCY = 16;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3_000);

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function main() {
  const load = loadavg();
  const region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  const dbHandle = await createTestDatabase();
  await seedModel(dbHandle.db);
  await seedRegions(dbHandle.db, [region.config]);
  await seedRoomyPlan(dbHandle.db);
  const owner = await seedAccount(dbHandle.db, { plan: ROOMY_TEST_PLAN.id });
  const assetsDir = await mkdtemp(join(tmpdir(), "bench-edge-"));
  let logged = 0;
  const edge = await startEdge({
    port: 0,
    db: dbHandle.db,
    regions: [region.config],
    assetsDir,
    secrets: TEST_SECRETS,
    environment: "development",
    // Serialised like production logs, not written: the bench measures the edge, not the terminal.
    log: (entry) => void (logged += JSON.stringify(entry).length),
    env: {},
  });
  const auth = { authorization: `Bearer ${owner.key}`, "content-type": "application/json" };

  // One completed generation gives a real output URL whose bytes the edge store then holds.
  region.mode = {
    kind: "complete",
    bytes: new TextEncoder().encode("bench pixels ".repeat(2_000)),
  };
  const created = await fetch(`${edge.url}/v1/generations`, {
    method: "POST",
    headers: { ...auth, prefer: "wait=10" },
    body: JSON.stringify({ prompt: "bench harbour", seed: 1 }),
  });
  const done = (await created.json()) as { status: string; output?: { url: string } };
  if (done.status !== "succeeded" || !done.output)
    throw new Error(`setup: ${JSON.stringify(done)}`);
  region.mode = { kind: "accept", estimatedWaitMs: 10 };
  const assetUrl = new URL(done.output.url);
  const assetPath = assetUrl.pathname + assetUrl.search;
  const assetRes = await fetch(`${edge.url}${assetPath}`);
  const assetBytes = new Uint8Array(await assetRes.arrayBuffer());
  const assetHeaders = Object.fromEntries(
    ["content-type", "etag", "cache-control"].map((h) => [h, assetRes.headers.get(h) ?? ""]),
  );
  const jobBody = JSON.stringify(region.jobs.at(-1)!);

  const bare = new Hono();
  bare.get("/asset", (c) => c.body(assetBytes, 200, assetHeaders));
  const bareServer = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((r) => bareServer.once("listening", r));
  const bareUrl = `http://127.0.0.1:${(bareServer.address() as { port: number }).port}`;

  let seed = 1_000;
  const direct: Target = {
    origin: region.config.endpoint,
    expectStatus: 202,
    async next() {
      const headers = await signRequest(TEST_SECRETS.regionSigning, {
        method: "POST",
        path: REGION_PATHS.jobs,
        body: jobBody,
      });
      return {
        method: "POST",
        path: REGION_PATHS.jobs,
        headers: { ...headers, "content-type": "application/json" },
        body: jobBody,
      };
    },
  };
  const viaEdge: Target = {
    origin: edge.url,
    expectStatus: 202,
    next: async () => ({
      method: "POST",
      path: "/v1/generations",
      headers: auth,
      body: JSON.stringify({ prompt: "a lighthouse at dusk over the harbour", seed: ++seed }),
    }),
  };
  const assetViaEdge: Target = {
    origin: edge.url,
    expectStatus: 200,
    next: async () => ({ method: "GET", path: assetPath, headers: {} }),
  };
  const assetBare: Target = {
    origin: bareUrl,
    expectStatus: 200,
    next: async () => ({ method: "GET", path: "/asset", headers: {} }),
  };

  const [d, e] = await pairedLatency([direct, viaEdge], SAMPLES, WARMUP);
  const latency = {
    direct: { p50_ms: round(percentile(d!, 50)), p99_ms: round(percentile(d!, 99)) },
    edge: { p50_ms: round(percentile(e!, 50)), p99_ms: round(percentile(e!, 99)) },
  };
  const added = {
    p50_ms: round(latency.edge.p50_ms - latency.direct.p50_ms),
    p99_ms: round(latency.edge.p99_ms - latency.direct.p99_ms),
  };
  const rps = {
    direct: round(await throughput(direct, CONCURRENCY, DURATION_MS), 0),
    edge: round(await throughput(viaEdge, CONCURRENCY, DURATION_MS), 0),
  };
  const assets = {
    bare_rps: round(await throughput(assetBare, CONCURRENCY, DURATION_MS), 0),
    edge_rps: round(await throughput(assetViaEdge, CONCURRENCY, DURATION_MS), 0),
    bytes: assetBytes.byteLength,
  };
  const results = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadavg_before: load.map((l) => round(l)),
    samples: SAMPLES,
    concurrency: CONCURRENCY,
    duration_ms: DURATION_MS,
    dispatch: { latency, added, rps, edge_over_direct_rps: round(rps.edge / rps.direct) },
    assets: { ...assets, edge_over_bare: round(assets.edge_rps / assets.bare_rps) },
    targets: {
      added_p50_le_2ms: added.p50_ms <= 2,
      added_p99_le_10ms: added.p99_ms <= 10,
      asset_ge_0_8_of_bare: assets.edge_rps / assets.bare_rps >= 0.8,
    },
  };
  console.log(JSON.stringify(results, null, 2));
  await mkdir("bench-results", { recursive: true });
  await writeFile("bench-results/edge.json", JSON.stringify(results, null, 2) + "\n");

  bareServer.close();
  await edge.close();
  await region.close();
  await dbHandle.close();
  await rm(assetsDir, { recursive: true, force: true });
}

await main();
