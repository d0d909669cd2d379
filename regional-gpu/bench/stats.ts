// Summaries of timing samples for the benchmark: nearest-rank percentiles, never interpolated, so a
// reported p99 is a latency that was actually observed.

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarise(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Rounds for printing and JSON: 2 decimals below 100, whole numbers above. */
export const round = (n: number) =>
  Number.isFinite(n) ? (Math.abs(n) < 100 ? Math.round(n * 100) / 100 : Math.round(n)) : n;

/** CPU time of this process so far, all threads, in ms: what other processes' load cannot inflate. */
export const processCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
