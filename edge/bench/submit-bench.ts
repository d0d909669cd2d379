import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { testRegionKey } from "../testing/region-keys.ts";
import type { DistanceProxy } from "../../db/local/distance-proxy.ts";
import { TEST_SECRETS } from "../testing/edge-fixture.ts";
import type { RegionStandIn } from "../testing/region-stand-in.ts";
import { pairedLatency, percentile, throughput, type QueryMeter, type Target } from "./measure.ts";

// What the edge adds to a submit, against a signed job posted straight to the region stand-in
// (which answers 202 at once): latency (paired samples, alternating the two), submits per second
// at 16 in flight, CPU per submit, and the database round trips a submit costs.

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

export interface SubmitTargets {
  direct: Target;
  viaEdge: Target;
}

/** The two targets: a signed POST /v1/jobs to the stand-in, and POST /v1/generations. */
export function submitTargets(edgeUrl: string, key: string, region: RegionStandIn): SubmitTargets {
  const jobBody = JSON.stringify(region.jobs.at(-1)!);
  let seed = Math.floor(Math.random() * 1e9);
  return {
    direct: {
      origin: region.config.endpoint,
      expectStatus: 202,
      async next() {
        const headers = await signRequest(
          testRegionKey(TEST_SECRETS.regionSigning, region.config.name),
          { method: "POST", path: REGION_PATHS.jobs, body: jobBody },
        );
        return {
          method: "POST",
          path: REGION_PATHS.jobs,
          headers: { ...headers, "content-type": "application/json" },
          body: jobBody,
        };
      },
    },
    viaEdge: {
      origin: edgeUrl,
      expectStatus: 202,
      next: async () => ({
        method: "POST",
        path: "/v1/generations",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        // A new seed each time: every submit is new work (a dedup miss), the common case.
        body: JSON.stringify({ prompt: "a lighthouse at dusk over the harbour", seed: ++seed }),
      }),
    },
  };
}

export interface LatencyFigures {
  direct: { p50_ms: number; p99_ms: number };
  edge: { p50_ms: number; p99_ms: number };
  added: { p50_ms: number; p99_ms: number };
  /** Database round trips per submit, all of them (the answer's and the work behind it). */
  round_trips_per_submit?: number;
  /** Statements PGlite ran per submit and the time they held it (in-process database only). */
  pglite?: { statements: number; ms: number };
  samples: number;
}

/** Paired latency after `warmup` pairs; round trips and statements counted over the samples. */
export async function submitLatency(
  targets: SubmitTargets,
  opts: { samples: number; warmup: number; distance?: DistanceProxy; meter?: QueryMeter },
): Promise<LatencyFigures> {
  await pairedLatency([targets.direct, targets.viaEdge], opts.warmup, 0);
  const rtBefore = opts.distance?.stats().roundTrips ?? 0;
  const meterBefore = opts.meter ? { ...opts.meter } : null;
  const [d, e] = await pairedLatency([targets.direct, targets.viaEdge], opts.samples, 0);
  // Work behind an answer (written after it) lands during the next samples; let the last settle.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const pct = (xs: number[]) => ({
    p50_ms: round(percentile(xs, 50)),
    p99_ms: round(percentile(xs, 99)),
  });
  const direct = pct(d!);
  const edge = pct(e!);
  return {
    direct,
    edge,
    added: {
      p50_ms: round(edge.p50_ms - direct.p50_ms),
      p99_ms: round(edge.p99_ms - direct.p99_ms),
    },
    ...(opts.distance && {
      round_trips_per_submit: round((opts.distance.stats().roundTrips - rtBefore) / opts.samples),
    }),
    ...(opts.meter &&
      meterBefore && {
        pglite: {
          statements: round((opts.meter.statements - meterBefore.statements) / opts.samples, 1),
          ms: round((opts.meter.ms - meterBefore.ms) / opts.samples),
        },
      }),
    samples: opts.samples,
  };
}

export interface ThroughputFigures {
  direct_rps: number;
  edge_rps: number;
  edge_over_direct: number;
  /** CPU of this process per request (client, edge and stand-in alike). */
  cpu_us_per_request: { direct: number; edge: number };
  /** The edge's own CPU per submit: the edge run's CPU less the direct run's (client + stand-in). */
  edge_cpu_us_per_submit: number;
  /** 1 s / the edge's own CPU per submit: submits one core could take. */
  submits_per_core_s: number;
}

/** Closed loops of `concurrency` requests for `durationMs`, direct then through the edge. */
export async function submitThroughput(
  targets: SubmitTargets,
  opts: { concurrency: number; durationMs: number },
): Promise<ThroughputFigures> {
  const direct = await throughput(targets.direct, opts.concurrency, opts.durationMs);
  const edge = await throughput(targets.viaEdge, opts.concurrency, opts.durationMs);
  const own = Math.max(1, edge.cpuUsPerRequest - direct.cpuUsPerRequest);
  return {
    direct_rps: round(direct.rps, 0),
    edge_rps: round(edge.rps, 0),
    edge_over_direct: round(edge.rps / direct.rps),
    cpu_us_per_request: {
      direct: round(direct.cpuUsPerRequest, 0),
      edge: round(edge.cpuUsPerRequest, 0),
    },
    edge_cpu_us_per_submit: round(own, 0),
    submits_per_core_s: round(1e6 / own, 0),
  };
}
