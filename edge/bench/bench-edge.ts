import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { testRegionKey } from "../testing/region-keys.ts";
import { createProject } from "../../db/queries/projects.ts";
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
import { meterPglite, pairedLatency, percentile, throughput, type Target } from "./measure.ts";

// npm run bench:edge — in one process on loopback: (1) what the Node edge adds (auth, moderation,
// limits, routing, dispatch, DB writes on PGlite) over a signed call straight to a region stand-in
// that answers 202 at once; (2) cached asset GETs through the edge (a public project's output on
// its signed URL: the response-cache path) vs a bare @hono/node-server handler serving the same
// bytes from memory, and, for reference, a private output (signed URL, no shared cache: owner
// lookup + edge store). Ratios against baselines measured in the same run.

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 600);
const WARMUP = 100;
const CONCURRENCY = 16;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3_000);
/** Asset runs alternate bare / edge in this many slices of DURATION_MS each, so drift hits both. */
const ROUNDS = 3;

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
  const gallery = await createProject(dbHandle.db, {
    accountId: owner.account.id,
    name: "bench gallery",
    visibility: "public",
  });
  const db = meterPglite(dbHandle.db.$client);
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

  // Completed generations give real output URLs whose bytes the edge store then holds.
  async function completed(prompt: string, project?: string) {
    region.mode = {
      kind: "complete",
      bytes: new TextEncoder().encode(`${prompt} pixels `.repeat(1_300).slice(0, 26_000)),
    };
    const created = await fetch(`${edge.url}/v1/generations`, {
      method: "POST",
      headers: { ...auth, prefer: "wait=10" },
      body: JSON.stringify({ prompt, seed: 1, ...(project && { project }) }),
    });
    const done = (await created.json()) as { status: string; output?: { url: string } };
    if (done.status !== "succeeded" || !done.output) {
      throw new Error(`setup: ${JSON.stringify(done)}`);
    }
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
  const publicAsset = await completed("bench harbour", gallery.id);
  const privateAsset = await completed("bench lighthouse");
  region.mode = { kind: "accept", estimatedWaitMs: 10 };
  const jobBody = JSON.stringify(region.jobs.at(-1)!);

  const bare = new Hono();
  bare.get("/asset", (c) => c.body(publicAsset.bytes, 200, publicAsset.headers));
  const bareServer = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((r) => bareServer.once("listening", r));
  const bareUrl = `http://127.0.0.1:${(bareServer.address() as { port: number }).port}`;

  let seed = 1_000;
  const direct: Target = {
    origin: region.config.endpoint,
    expectStatus: 202,
    async next() {
      const headers = await signRequest(
        testRegionKey(TEST_SECRETS.regionSigning, region.config.name),
        {
          method: "POST",
          path: REGION_PATHS.jobs,
          body: jobBody,
        },
      );
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
  const asset = (origin: string, path: string): Target => ({
    origin,
    expectStatus: 200,
    next: async () => ({ method: "GET", path, headers: {} }),
  });
  const assetBare = asset(bareUrl, "/asset");
  const assetPublic = asset(edge.url, publicAsset.path);
  const assetPrivate = asset(edge.url, privateAsset.path);

  const dbBefore = { ...db };
  const [d, e] = await pairedLatency([direct, viaEdge], SAMPLES, WARMUP);
  const submits = SAMPLES + WARMUP;
  const perSubmit = {
    statements: round((db.statements - dbBefore.statements) / submits, 1),
    db_ms_mean: round((db.ms - dbBefore.ms) / submits),
  };
  const latency = {
    direct: { p50_ms: round(percentile(d!, 50)), p99_ms: round(percentile(d!, 99)) },
    edge: { p50_ms: round(percentile(e!, 50)), p99_ms: round(percentile(e!, 99)) },
  };
  const added = {
    p50_ms: round(latency.edge.p50_ms - latency.direct.p50_ms),
    p99_ms: round(latency.edge.p99_ms - latency.direct.p99_ms),
  };
  const submitRuns = {
    direct: await throughput(direct, CONCURRENCY, DURATION_MS),
    edge: await throughput(viaEdge, CONCURRENCY, DURATION_MS),
  };
  const rps = { direct: round(submitRuns.direct.rps, 0), edge: round(submitRuns.edge.rps, 0) };
  const submitCpu = {
    direct: round(submitRuns.direct.cpuUsPerRequest, 0),
    edge: round(submitRuns.edge.cpuUsPerRequest, 0),
  };
  const assetTargets = { bare: assetBare, public: assetPublic, private: assetPrivate };
  const sums = {
    bare: { rps: 0, cpu: 0 },
    public: { rps: 0, cpu: 0 },
    private: { rps: 0, cpu: 0 },
  };
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of ["bare", "public", "private"] as const) {
      const run = await throughput(assetTargets[name], CONCURRENCY, DURATION_MS / ROUNDS);
      sums[name].rps += run.rps / ROUNDS;
      sums[name].cpu += run.cpuUsPerRequest / ROUNDS;
    }
  }
  const assets = {
    bare_rps: round(sums.bare.rps, 0),
    edge_public_rps: round(sums.public.rps, 0),
    edge_private_signed_rps: round(sums.private.rps, 0),
    cpu_us_per_request: {
      bare: round(sums.bare.cpu, 0),
      edge_public: round(sums.public.cpu, 0),
      edge_private_signed: round(sums.private.cpu, 0),
    },
    bytes: publicAsset.bytes.byteLength,
  };
  const assetRatio = assets.edge_public_rps / assets.bare_rps;
  const results = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadavg_before: load.map((l) => round(l)),
    samples: SAMPLES,
    concurrency: CONCURRENCY,
    duration_ms: DURATION_MS,
    loadavg_after: loadavg().map((l) => round(l)),
    dispatch: {
      latency,
      added,
      rps,
      edge_over_direct_rps: round(rps.edge / rps.direct),
      cpu_us_per_request: submitCpu,
      per_submit: perSubmit,
    },
    assets: {
      ...assets,
      edge_over_bare: round(assetRatio),
      private_over_bare: round(assets.edge_private_signed_rps / assets.bare_rps),
      // Requests/s the CPU allows, edge over bare: the ratio without other processes' noise.
      edge_over_bare_by_cpu: round(sums.bare.cpu / sums.public.cpu),
    },
    targets: {
      added_p50_le_2ms: added.p50_ms <= 2,
      added_p99_le_10ms: added.p99_ms <= 10,
      asset_ge_0_8_of_bare: assetRatio >= 0.8,
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
