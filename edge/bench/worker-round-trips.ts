import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDistanceProxy } from "../../db/local/distance-proxy.ts";
import { startWireGateway } from "../../db/local/wire-gateway.ts";
import { createTestDatabase } from "../../db/testing.ts";
import { edgeVars, writeDotenvFile } from "../../scripts/local-stack/edge-vars.ts";
import { freePort } from "../../scripts/local-stack/free-port.ts";
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
// Neon-style WebSocket bridge, with the distance proxy in between counting. Counting only: workerd
// and wrangler on this machine say nothing about a Worker's speed at Cloudflare.

export interface WorkerRoundTrips {
  /** The first submit of a fresh isolate (key, model, regions, prices, budgets, limiter unread). */
  cold: { round_trips: number; connections: number };
  /** Submits after it, each a new seed (a dedup miss). */
  warm: { round_trips_per_submit: number; connections_per_submit: number; submits: number };
  /** The same request again with its Idempotency-Key, and a seed the account already ran. */
  replay_round_trips: number;
  dedup_hit_round_trips: number;
}

export async function workerRoundTrips(opts: { submits: number }): Promise<WorkerRoundTrips> {
  const dir = await mkdtemp(join(tmpdir(), "bench-worker-"));
  const closers: Array<() => Promise<void>> = [
    async () => rm(dir, { recursive: true, force: true }),
  ];
  try {
    const secrets = {
      regionSigning: randomBytes(32).toString("hex"),
      assetUrl: randomBytes(32).toString("hex"),
      apiKeyPepper: randomBytes(16).toString("hex"),
    };
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
      roundTripMs: 0,
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

    // Counted from the request until its background work (waitUntil) has closed the connection.
    const counted = async (body: object, headers: Record<string, string> = {}) => {
      const before = distance.stats();
      const res = await fetch(`${url}/v1/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      if (res.status !== 202 && res.status !== 200) {
        throw new Error(`worker submit: ${res.status} ${await res.text()}`);
      }
      await res.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = distance.stats();
      return {
        round_trips: after.roundTrips - before.roundTrips,
        connections: after.connections - before.connections,
      };
    };
    const prompt = "a lighthouse at dusk over the harbour";
    const cold = await counted({ prompt, seed: 1 }, { "idempotency-key": "bench-replay" });
    let roundTrips = 0;
    let connections = 0;
    for (let i = 0; i < opts.submits; i++) {
      const one = await counted({ prompt, seed: 1_000 + i });
      roundTrips += one.round_trips;
      connections += one.connections;
    }
    const replay = await counted({ prompt, seed: 1 }, { "idempotency-key": "bench-replay" });
    // seed 1 has run (the stand-in accepted it, nothing finished): a hit needs a finished source.
    region.mode = { kind: "complete", bytes: new TextEncoder().encode("pixels".repeat(100)) };
    await counted({ prompt, seed: 99 }, { prefer: "wait=10" });
    const hit = await counted({ prompt, seed: 99 });
    return {
      cold,
      warm: {
        round_trips_per_submit: roundTrips / opts.submits,
        connections_per_submit: connections / opts.submits,
        submits: opts.submits,
      },
      replay_round_trips: replay.round_trips,
      dedup_hit_round_trips: hit.round_trips,
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}
