import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDistanceProxy } from "../../db/local/distance-proxy.ts";
import { startWireGateway } from "../../db/local/wire-gateway.ts";
import { createTestDatabase } from "../../db/testing.ts";
import { edgeVars, writeDotenvFile } from "../../scripts/local-stack/edge-vars.ts";
import { freePort } from "../../scripts/local-stack/free-port.ts";
import { loadOrCreateSecrets } from "../../scripts/local-stack/secrets.ts";
import { startWranglerDev } from "../../scripts/local-stack/wrangler-dev-process.ts";
import { startRegionStandIn } from "../testing/region-stand-in.ts";
import {
  ROOMY_TEST_PLAN,
  seedAccount,
  seedModel,
  seedRegions,
  seedRoomyPlan,
} from "../testing/seed.ts";

// Round trips a submit makes to the database on the Worker path: the Worker (edge/entry/worker.ts)
// under `wrangler dev` (workerd), its Neon driver reaching PGlite through the wire gateway's
// Neon-style WebSocket and HTTP bridge, with the distance proxy in between (50 ms a round trip)
// counting: all round trips, and those answered by the time the submit is (what it waited on).
// Counting only: workerd and wrangler on this machine say nothing about a Worker's speed at
// Cloudflare.

export interface WorkerRoundTrips {
  round_trip_ms: number;
  /** The first submit of a fresh isolate (key, model, regions, prices, budgets, limiter unread). */
  cold: { round_trips: number; connections: number };
  /**
   * Submits after it, each a new seed (a dedup miss): round trips and new connections per
   * submit (the work behind the answer included), latency at no distance and at
   * `round_trip_ms`, and `waited`: the difference in round trips (what the answer waits on).
   */
  warm: {
    round_trips: number;
    connections: number;
    latency_ms: Record<string, number>;
    waited: number;
    submits: number;
  };
  /** The same request again with its Idempotency-Key, and a seed the account already ran. */
  replay: { round_trips: number; waited: number };
  dedup_hit: { round_trips: number; waited: number };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const DISTANCE_MS = 50;

export async function workerRoundTrips(opts: { submits: number }): Promise<WorkerRoundTrips> {
  const dir = await mkdtemp(join(tmpdir(), "bench-worker-"));
  const closers: Array<() => Promise<void>> = [
    async () => rm(dir, { recursive: true, force: true }),
  ];
  try {
    const secrets = await loadOrCreateSecrets(dir);
    const region = await startRegionStandIn({
      name: "eu-west",
      lat: 53.35,
      lon: -6.26,
      secret: secrets.regionSigning,
    });
    closers.push(region.close);
    const pglite = await createTestDatabase();
    closers.push(pglite.close);
    await seedModel(pglite.db);
    await seedRegions(pglite.db, [region.config]);
    await seedRoomyPlan(pglite.db);
    const { key } = await seedAccount(pglite.db, {
      plan: ROOMY_TEST_PLAN.id,
      pepper: secrets.apiKeyPepper,
    });
    const gateway = await startWireGateway(pglite.db.$client, { maxConnections: 64 });
    closers.push(gateway.close);
    const [bridgeHost, bridgePort] = gateway.neon.webSocketProxy.split("/")[0]!.split(":");
    const distance = await startDistanceProxy({
      target: { host: bridgeHost!, port: Number(bridgePort) },
      roundTripMs: DISTANCE_MS,
    });
    closers.push(distance.close);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const envFile = join(dir, "worker.env");
    await writeDotenvFile(
      envFile,
      edgeVars({
        publicUrl: url,
        regions: [region.config],
        secrets,
        databaseUrl: gateway.neon.url,
      }),
    );
    const wrangler = startWranglerDev({
      host: "127.0.0.1",
      port,
      inspectorPort: await freePort(),
      envFile,
      vars: { NEON_WS_PROXY: distance.via(gateway.neon.webSocketProxy) },
      persistTo: join(dir, "state"),
      logDir: join(dir, "logs"),
      logLevel: "error",
      output: () => {},
    });
    closers.push(() => wrangler.stop());
    await wrangler.ready(url, new AbortController().signal);

    // One submit at `rtt`: its latency, and every round trip it caused (its answer's and the work
    // behind it), counted once the proxy has been quiet a while.
    const submit = async (body: object, headers: Record<string, string>, rtt: number) => {
      distance.setRoundTripMs(rtt);
      const before = distance.stats();
      const started = performance.now();
      const res = await fetch(`${url}/v1/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      const ms = performance.now() - started;
      if (res.status !== 202 && res.status !== 200) throw new Error(`worker submit: ${res.status}`);
      await quiet();
      const after = distance.stats();
      return {
        ms,
        round_trips: after.roundTrips - before.roundTrips,
        connections: after.connections - before.connections,
      };
    };
    const quiet = async () => {
      let still = 0;
      let last = -1;
      for (let waited = 0; waited < 5_000 && still < 5; waited += 40) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        const s = distance.stats();
        const busy = s.roundTrips - s.connections - s.answered;
        still = busy === 0 && s.roundTrips === last ? still + 1 : 0;
        last = s.roundTrips;
      }
    };
    const prompt = "a lighthouse at dusk over the harbour";
    const cold = await submit({ prompt, seed: 1 }, { "idempotency-key": "bench-replay" }, 0);
    // Warm submits, alternately at no distance and at DISTANCE_MS: the difference in latency,
    // in round trips, is what a submit waits on the database for.
    const near: number[] = [];
    const far: number[] = [];
    let roundTrips = 0;
    let connections = 0;
    for (let i = 0; i < 2 * opts.submits; i++) {
      const rtt = i % 2 === 0 ? 0 : DISTANCE_MS;
      const one = await submit({ prompt, seed: 1_000 + i }, {}, rtt);
      (rtt === 0 ? near : far).push(one.ms);
      roundTrips += one.round_trips;
      connections += one.connections;
    }
    const base = median(near);
    const waitedAt = (ms: number) => Math.round(((ms - base) / DISTANCE_MS) * 10) / 10;
    // An isolate's copies of keys, regions, prices and budgets are read again ahead of their 5 s
    // while traffic comes; after a pause they have run out, and a long request (the wait below)
    // has workerd start more isolates. Steady traffic first, as production has.
    const warmUp = async () => {
      for (let i = 0; i < 3; i++) {
        await submit({ prompt: "warm", seed: Math.floor(Math.random() * 1e9) }, {}, 0);
      }
    };
    await warmUp();
    const replay = await submit(
      { prompt, seed: 1 },
      { "idempotency-key": "bench-replay" },
      DISTANCE_MS,
    );
    // A hit needs a finished source: one run to completion first (it has seen it succeed).
    region.mode = { kind: "complete", bytes: new TextEncoder().encode("pixels".repeat(100)) };
    await submit({ prompt, seed: 99 }, { prefer: "wait=10" }, 0);
    region.mode = { kind: "accept", estimatedWaitMs: 10 };
    await warmUp();
    const hit = await submit({ prompt, seed: 99 }, {}, DISTANCE_MS);
    return {
      round_trip_ms: DISTANCE_MS,
      cold: { round_trips: cold.round_trips, connections: cold.connections },
      warm: {
        round_trips: roundTrips / (2 * opts.submits),
        connections: connections / (2 * opts.submits),
        latency_ms: { at_0: Math.round(base), [`at_${DISTANCE_MS}`]: Math.round(median(far)) },
        waited: waitedAt(median(far)),
        submits: 2 * opts.submits,
      },
      replay: { round_trips: replay.round_trips, waited: waitedAt(replay.ms) },
      dedup_hit: { round_trips: hit.round_trips, waited: waitedAt(hit.ms) },
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}
