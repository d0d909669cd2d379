// What a run measured, per request (queue wait, time to image) and per minute (load, instances),
// kept in typed arrays: a day at 1M requests is a few megabytes.

export const Outcome = { Pending: 0, Done: 1, Shed: 2, Failed: 3 } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export class RequestLog {
  waitMs = new Float32Array(1 << 16);
  ttiMs = new Float32Array(1 << 16);
  arrivedAt = new Float64Array(1 << 16);
  outcome = new Uint8Array(1 << 16);
  count = 0;

  /** Registers a request; answers its id. */
  add(arrivedAt: number): number {
    if (this.count === this.waitMs.length) this.grow();
    const id = this.count++;
    this.arrivedAt[id] = arrivedAt;
    return id;
  }

  done(id: number, waitMs: number, ttiMs: number): void {
    this.waitMs[id] = waitMs;
    this.ttiMs[id] = ttiMs;
    this.outcome[id] = Outcome.Done;
  }

  end(id: number, outcome: typeof Outcome.Shed | typeof Outcome.Failed): void {
    this.outcome[id] = outcome;
  }

  private grow(): void {
    const n = this.waitMs.length * 2;
    this.waitMs = copy(new Float32Array(n), this.waitMs);
    this.ttiMs = copy(new Float32Array(n), this.ttiMs);
    this.arrivedAt = copy(new Float64Array(n), this.arrivedAt);
    this.outcome = copy(new Uint8Array(n), this.outcome);
  }
}

function copy<T extends Float32Array | Float64Array | Uint8Array>(into: T, from: T): T {
  into.set(from);
  return into;
}

export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

/** Quantiles of `values` (sorted in place), nearest rank. */
export function quantiles(values: Float32Array): Quantiles {
  if (values.length === 0) return { p50: 0, p95: 0, p99: 0, mean: 0 };
  values.sort();
  const at = (q: number) => values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!;
  let sum = 0;
  for (const v of values) sum += v;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), mean: sum / values.length };
}

/** The values of finished requests, optionally only those that arrived in [from, to). */
export function finished(
  log: RequestLog,
  pick: "waitMs" | "ttiMs",
  from = -Infinity,
  to = Infinity,
): Float32Array {
  const out = new Float32Array(log.count);
  let n = 0;
  const values = log[pick];
  for (let i = 0; i < log.count; i++) {
    const at = log.arrivedAt[i]!;
    if (log.outcome[i] === Outcome.Done && at >= from && at < to) out[n++] = values[i]!;
  }
  return out.subarray(0, n);
}

/** Per-minute series of a run (instances are counted at the end of each minute). */
export class MinuteSeries {
  arrivals: number[] = [];
  serving: number[] = [];
  running: number[] = [];
  queued: number[] = [];
}
