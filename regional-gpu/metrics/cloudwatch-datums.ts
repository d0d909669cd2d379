import type { MetricDatum, PutMetricDataCommandInput } from "@aws-sdk/client-cloudwatch";
import type { NodeStatus } from "./node-status.ts";
import { SCALING_DIMENSION, SCALING_SIGNALS, type SignalScope } from "./scaling-signals.ts";

// Pure side of the CloudWatch publisher: samples collected over one period of the scaling policies
// become one datum per signal and group, carrying every sample (Values/Counts), so the period's
// Average and Maximum are those of the samples and a spike between two sends is not lost.

/** CloudWatch's limit on datums per PutMetricData call. */
export const MAX_DATUMS_PER_REQUEST = 1_000;

/** Samples of every signal within one period [start, start + periodMs). */
export interface SignalPeriod {
  start: number;
  samples: Map<string, number[]>;
}

/** Start of the period `at` falls in (periods are aligned to the clock, like CloudWatch's). */
export const periodStart = (at: number, periodMs: number) => Math.floor(at / periodMs) * periodMs;

export function emptyPeriod(start: number): SignalPeriod {
  return { start, samples: new Map(SCALING_SIGNALS.map((s) => [s.metricName, []])) };
}

/** Adds one reading's figures to the period. */
export function addSample(period: SignalPeriod, status: NodeStatus): void {
  for (const signal of SCALING_SIGNALS)
    period.samples.get(signal.metricName)!.push(signal.read(status));
}

/**
 * Distinct values with their counts. A datum holds at most 150 distinct values; samples come at
 * most once a second (config), so a 60-s period never has more.
 */
export function valuesAndCounts(samples: readonly number[]): {
  Values: number[];
  Counts: number[];
} {
  const counts = new Map<number, number>();
  for (const v of samples) counts.set(v, (counts.get(v) ?? 0) + 1);
  const entries = [...counts].sort((a, b) => a[0] - b[0]);
  return { Values: entries.map((e) => e[0]), Counts: entries.map((e) => e[1]) };
}

export interface DatumOptions {
  periodMs: number;
  /** Auto Scaling group names; each signal is sent once per group (the policies read per group). */
  groups: readonly string[];
  /** Which scopes this node sends: region-wide figures only while it is the region's publisher. */
  scopes: ReadonlySet<SignalScope>;
}

/** The period's datums: one per signal of the given scopes and group, timestamped inside it. */
export function datumsOf(period: SignalPeriod, opts: DatumOptions): MetricDatum[] {
  const timestamp = new Date(period.start + opts.periodMs / 2);
  const datums: MetricDatum[] = [];
  for (const signal of SCALING_SIGNALS) {
    const samples = period.samples.get(signal.metricName) ?? [];
    if (!opts.scopes.has(signal.scope) || samples.length === 0) continue;
    const { Values, Counts } = valuesAndCounts(samples);
    for (const group of opts.groups) {
      datums.push({
        MetricName: signal.metricName,
        Dimensions: [{ Name: SCALING_DIMENSION, Value: group }],
        Timestamp: timestamp,
        Values,
        Counts,
        Unit: signal.unit,
        StorageResolution: 60,
      });
    }
  }
  return datums;
}

/** As few PutMetricData calls as CloudWatch allows (1,000 datums each). */
export function putRequests(
  namespace: string,
  datums: readonly MetricDatum[],
): PutMetricDataCommandInput[] {
  const requests: PutMetricDataCommandInput[] = [];
  for (let i = 0; i < datums.length; i += MAX_DATUMS_PER_REQUEST) {
    requests.push({
      Namespace: namespace,
      MetricData: datums.slice(i, i + MAX_DATUMS_PER_REQUEST),
    });
  }
  return requests;
}
