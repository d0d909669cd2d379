import { DEFAULT_TUNING } from "../../edge/tuning.ts";
import { DEFAULT_LEASE_TUNING } from "../../edge/generations/leases.ts";
import { RegionNodeConfig } from "../../regional-gpu/config.ts";
import { BATCH_DEFAULTS } from "../../regional-gpu/scheduler/batch-policy.ts";
import type { InstanceTypes, ServiceProfile } from "./inputs/profiles.ts";
import type { RegionScalingPolicy } from "./inputs/terraform-policy.ts";
import { buildPolicies, fixedFleetSizes, gpuSecondsPerImage } from "./policies.ts";
import { summarise, type FocusWindow, type RunSummary } from "./report/summary.ts";
import { ServiceTimes } from "./sim/service-time.ts";
import {
  Simulation,
  type EdgeParams,
  type NodeParams,
  type PolicySpec,
  type RegionLoss,
} from "./sim/simulator.ts";
import { DAY_MS, DiurnalArrivals, SHAPES, type ArrivalSource } from "./workload/arrivals.ts";
import { loadAzureTrace } from "./workload/azure-trace.ts";
import { METROS, REGIONS } from "./workload/geography.ts";

// The workloads of the comparison and the loop that runs every policy on each: the same arrivals
// (same seed) for every policy, the edge's and the node's own defaults, and the Terraform
// environment's scaling parameters.

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The node's defaults as its config schema gives them (Terraform sets none of these). */
const NODE_DEFAULTS = RegionNodeConfig.parse({
  regionName: "sim",
  signingKey: { id: "sim", secret: "s".repeat(32) },
});

export const EDGE: EdgeParams = {
  heartbeatTtlMs: DEFAULT_TUNING.heartbeatTtlMs,
  dispatchTimeoutMs: DEFAULT_TUNING.dispatchTimeoutMs,
  breakerThreshold: DEFAULT_TUNING.breakerThreshold,
  breakerCooldownMs: DEFAULT_TUNING.breakerCooldownMs,
  maxDispatchAttempts: DEFAULT_TUNING.maxDispatchAttempts,
  // The lease sweep takes back the jobs of a region silent for the heartbeat TTL, at its next pass.
  leaseMs: DEFAULT_TUNING.heartbeatTtlMs + DEFAULT_LEASE_TUNING.sweepIntervalMs,
};

export const NODE: NodeParams = {
  queueAgingMs: NODE_DEFAULTS.queueAgingMs,
  heartbeatIntervalMs: NODE_DEFAULTS.heartbeatIntervalMs,
  metricsSampleMs: NODE_DEFAULTS.metricsSampleMs,
  queueLockMs: NODE_DEFAULTS.queueLockMs,
  batching: BATCH_DEFAULTS.cuda,
};

export interface WorkloadSpec {
  name: string;
  label: string;
  /** Simulated time, warm-up included. */
  durationMs: number;
  /** Unmeasured start (see SimulationConfig.warmupMs). */
  warmupMs: number;
  arrivals(): Promise<ArrivalSource>;
  regionLoss?: RegionLoss;
  /** The event's hour, reported on its own as well. */
  focus?: FocusWindow;
}

export interface WorkloadOptions {
  quick: boolean;
  requestsPerDay: number;
  seed: number;
  tracePath: string;
  traceSpeedup?: number;
}

/**
 * (a) a diurnal day, (b) the same day with a 20x flash crowd for 10 minutes, (c) the same day with
 * one region lost for 30 minutes, (d) a replayed Azure Functions 2021 trace. Quick: 90 minutes of
 * the evening peak at a lower rate, the same events 30 minutes in, 20 minutes of the trace.
 */
export function workloads(opts: WorkloadOptions): WorkloadSpec[] {
  const { quick, requestsPerDay, seed } = opts;
  // Measured: 00:00-24:00 UTC (quick: 18:00-19:30), after an unmeasured warm-up that lets the
  // fleet settle to the traffic (23:00 the day before; quick: 20 minutes).
  const warmupMs = quick ? 20 * MINUTE : HOUR;
  const measuredMs = quick ? 90 * MINUTE : DAY_MS;
  const startOfDayMs = (quick ? 18 * HOUR : 0) - warmupMs;
  const durationMs = warmupMs + measuredMs;
  const eventAt = warmupMs + (quick ? 30 * MINUTE : 19 * HOUR);
  const diurnal =
    (extra: Partial<ConstructorParameters<typeof DiurnalArrivals>[0]> = {}) =>
    async () =>
      new DiurnalArrivals({ requestsPerDay, durationMs, seed, startOfDayMs, ...extra });
  const perDay = `${(requestsPerDay / 1e6).toLocaleString("en")}M/day`;
  const traceMs = quick ? 20 * MINUTE : HOUR;
  const traceWarmupMs = quick ? 5 * MINUTE : 10 * MINUTE;
  const focus = (label: string): FocusWindow => ({
    label,
    fromMs: eventAt,
    toMs: eventAt + (quick ? 30 : 60) * MINUTE,
  });
  return [
    { name: "diurnal", label: `(a) diurnal, ${perDay}`, durationMs, warmupMs, arrivals: diurnal() },
    {
      name: "flash-crowd",
      label: `(b) flash crowd: 20x for 10 min`,
      durationMs,
      warmupMs,
      arrivals: diurnal({ flash: { atMs: eventAt, durationMs: 10 * MINUTE, factor: 20 } }),
      focus: focus(
        quick ? "the flash and the 20 minutes after it" : "the flash and the 50 minutes after it",
      ),
    },
    {
      name: "region-loss",
      label: `(c) eu-central lost for 30 min`,
      durationMs,
      warmupMs,
      arrivals: diurnal(),
      regionLoss: { region: "eu-central", atMs: eventAt, durationMs: 30 * MINUTE },
      focus: focus(quick ? "the outage" : "the outage and the 30 minutes after it"),
    },
    {
      // For capacity planning (--workloads peak-hour --uncapped): the busiest hour of the world's
      // day in this traffic model (Asia's evening and Europe's afternoon).
      name: "peak-hour",
      label: `peak hour (14:00-15:00 UTC), ${perDay}`,
      durationMs: 90 * MINUTE,
      warmupMs: 30 * MINUTE,
      arrivals: async () =>
        new DiurnalArrivals({
          requestsPerDay,
          durationMs: 90 * MINUTE,
          seed,
          startOfDayMs: 13.5 * HOUR,
        }),
    },
    {
      name: "trace",
      label: `(d) Azure Functions 2021 trace`,
      durationMs: traceMs,
      // Its first minutes let the fleet meet the trace's rate; measured after.
      warmupMs: traceWarmupMs,
      arrivals: () =>
        loadAzureTrace({
          path: opts.tracePath,
          windowMs: traceMs,
          ...(opts.traceSpeedup !== undefined && { speedup: opts.traceSpeedup }),
        }),
    },
  ];
}

export interface ComparisonInputs {
  tf: RegionScalingPolicy;
  /** Lift the groups' max sizes, so the fleet shows what the load needs (capacity planning). */
  uncapped?: boolean;
  profile: ServiceProfile;
  types: InstanceTypes;
  requestsPerDay: number;
  seed: number;
}

/** The four policies, with the fixed fleet sized for the diurnal day at this rate. */
export function policiesFor(given: ComparisonInputs): PolicySpec[] {
  const inputs = given.uncapped ? { ...given, tf: uncap(given.tf) } : given;
  const service = new ServiceTimes(inputs.profile, inputs.types, SHAPES, NODE.batching.maxBatch);
  const sizing = new DiurnalArrivals({
    requestsPerDay: inputs.requestsPerDay,
    durationMs: DAY_MS,
    seed: inputs.seed,
  });
  const fixedSizes = fixedFleetSizes({
    sites: REGIONS,
    metros: METROS,
    metroRate: (m, t) => sizing.metroRate(m, t),
    gpuSecondsPerImage: gpuSecondsPerImage(service, inputs.tf.instance_types[0]!),
    minSize: inputs.tf.groups.base.min_size,
  });
  const policies = buildPolicies({
    ...inputs,
    service,
    fixedSizes,
    maxQueueDepth: NODE_DEFAULTS.maxQueueDepth,
  });
  if (!given.uncapped) return policies;
  // Capacity planning: start the scaled groups near what the traffic needs rather than at their
  // minimum, so the run measures the fleet the load settles to, not a start-up overshoot.
  const base = inputs.tf.groups.base.min_size;
  return policies.map((p) => ({
    ...p,
    groups: p.groups.map((g) =>
      g.role === "burst" || g.role === "fleet"
        ? { ...g, initialSizes: fixedSizes.map((n) => (g.role === "burst" ? n - base : n)) }
        : g,
    ),
  }));
}

function uncap(tf: RegionScalingPolicy): RegionScalingPolicy {
  const lift = (g: RegionScalingPolicy["groups"]["base"]) => ({
    ...g,
    max_size: g.max_size * 1000,
  });
  return { ...tf, groups: { base: lift(tf.groups.base), burst: lift(tf.groups.burst) } };
}

export async function runOne(
  workload: WorkloadSpec,
  policy: PolicySpec,
  inputs: ComparisonInputs,
  quick: boolean,
): Promise<RunSummary> {
  const started = performance.now();
  const sim = new Simulation({
    policy,
    sites: REGIONS,
    metros: METROS,
    arrivals: await workload.arrivals(),
    durationMs: workload.durationMs,
    warmupMs: workload.warmupMs,
    drainMs: quick ? 10 * MINUTE : 30 * MINUTE,
    profile: inputs.profile,
    types: inputs.types,
    seed: inputs.seed,
    edge: EDGE,
    node: NODE,
    regionLoss: workload.regionLoss ?? null,
  });
  const result = sim.run();
  return summarise(
    workload.name,
    result,
    inputs.types,
    performance.now() - started,
    workload.focus ?? null,
  );
}
