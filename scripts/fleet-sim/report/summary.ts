import type { InstanceTypes } from "../inputs/profiles.ts";
import { finished, Outcome, quantiles, type Quantiles } from "../sim/results.ts";
import type { RunResult } from "../sim/simulator.ts";

// One run's figures: latency quantiles, what it cost, what happened to the fleet, and the
// per-minute series the plot draws.

export interface RunSummary {
  workload: string;
  policy: string;
  label: string;
  requests: number;
  completed: number;
  shed: number;
  failed: number;
  redispatched: number;
  waitMs: Quantiles;
  timeToImageMs: Quantiles;
  gpuHours: number;
  costUsd: { onDemand: number; spot: number; ebs: number; total: number };
  costPer1000ImagesUsd: number;
  coldStarts: number;
  warmPoolStarts: number;
  warmPoolLaunches: number;
  spotInterruptions: number;
  servingAvg: number;
  servingPeak: number;
  /** Per region, the most instances serving at once. */
  peakServingByRegion: Record<string, number>;
  /** The same figures for the requests that arrived in the workload's event window, if any. */
  eventWindow: WindowFigures | null;
  events: number;
  wallMs: number;
  series: {
    /** Requests per second, per minute. */
    load: number[];
    serving: number[];
    /** p95 queue wait (ms) of the requests that arrived in each 5-minute window. */
    p95WaitMs5min: number[];
  };
}

export interface WindowFigures {
  label: string;
  requests: number;
  shed: number;
  failed: number;
  waitMs: Quantiles;
  timeToImageMs: Quantiles;
}

/** Simulated window [fromMs, toMs) whose requests are also reported on their own. */
export interface FocusWindow {
  label: string;
  fromMs: number;
  toMs: number;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const roundQ = (q: Quantiles): Quantiles => ({
  p50: round(q.p50, 0),
  p95: round(q.p95, 0),
  p99: round(q.p99, 0),
  mean: round(q.mean, 0),
});

function windowFigures(run: RunResult, focus: FocusWindow): WindowFigures {
  const { log } = run;
  let requests = 0;
  let shed = 0;
  let failed = 0;
  for (let i = 0; i < log.count; i++) {
    const at = log.arrivedAt[i]!;
    if (at < focus.fromMs || at >= focus.toMs) continue;
    requests++;
    if (log.outcome[i] === Outcome.Shed) shed++;
    else if (log.outcome[i] !== Outcome.Done) failed++;
  }
  return {
    label: focus.label,
    requests,
    shed,
    failed,
    waitMs: roundQ(quantiles(finished(log, "waitMs", focus.fromMs, focus.toMs))),
    timeToImageMs: roundQ(quantiles(finished(log, "ttiMs", focus.fromMs, focus.toMs))),
  };
}

export function summarise(
  workload: string,
  run: RunResult,
  types: InstanceTypes,
  wallMs: number,
  focus: FocusWindow | null = null,
): RunSummary {
  const { log } = run;
  const from = run.measuredFrom;
  let requests = 0;
  let completed = 0;
  let shed = 0;
  let failed = 0;
  for (let i = 0; i < log.count; i++) {
    if (log.arrivedAt[i]! < from) continue;
    requests++;
    const o = log.outcome[i];
    if (o === Outcome.Done) completed++;
    else if (o === Outcome.Shed) shed++;
    else failed++;
  }
  let onDemand = 0;
  let spot = 0;
  let ebs = 0;
  let runMs = 0;
  for (const node of run.nodes) {
    const type = types.types[node.type]!;
    const hours = node.billedRunMs / 3_600_000;
    runMs += node.billedRunMs;
    if (node.spot) spot += hours * type.spotUsdPerHour;
    else onDemand += hours * type.onDemandUsdPerHour;
    ebs += (node.billedEbsMs / 3_600_000) * types.ebsUsdPerInstanceHour;
  }
  const total = onDemand + spot + ebs;
  const minutes = run.series.arrivals.length;
  const windows: number[][] = Array.from({ length: Math.ceil(minutes / 5) }, () => []);
  for (let i = 0; i < log.count; i++) {
    const w = Math.floor((log.arrivedAt[i]! - from) / 300_000);
    if (w < 0) continue;
    if (log.outcome[i] === Outcome.Done && w < windows.length) windows[w]!.push(log.waitMs[i]!);
  }
  const p95 = windows.map((w) => round(quantiles(Float32Array.from(w)).p95, 0));
  const sum = (f: (g: RunResult["groups"][number]) => number) =>
    run.groups.reduce((n, g) => n + f(g), 0);
  return {
    workload,
    policy: run.policy.name,
    label: run.policy.label,
    requests,
    completed,
    shed,
    failed,
    redispatched: run.redispatched,
    waitMs: roundQ(quantiles(finished(log, "waitMs", from))),
    timeToImageMs: roundQ(quantiles(finished(log, "ttiMs", from))),
    gpuHours: round(runMs / 3_600_000),
    costUsd: {
      onDemand: round(onDemand, 2),
      spot: round(spot, 2),
      ebs: round(ebs, 2),
      total: round(total, 2),
    },
    costPer1000ImagesUsd: round((total / Math.max(1, completed)) * 1000, 3),
    coldStarts: sum((g) => g.coldStarts),
    warmPoolStarts: sum((g) => g.warmStarts),
    warmPoolLaunches: sum((g) => g.poolLaunches),
    spotInterruptions: run.spotInterruptions,
    servingAvg: round(run.series.serving.reduce((a, b) => a + b, 0) / Math.max(1, minutes)),
    servingPeak: Math.max(0, ...run.series.serving),
    peakServingByRegion: Object.fromEntries(
      run.regions.map((r, i) => [r.name, run.peakServing[i]!]),
    ),
    eventWindow: focus ? windowFigures(run, focus) : null,
    events: run.events,
    wallMs: Math.round(wallMs),
    series: {
      load: run.series.arrivals.map((n) => round(n / 60, 2)),
      serving: run.series.serving,
      p95WaitMs5min: p95,
    },
  };
}
