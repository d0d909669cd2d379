// Recent performance of this node, for heartbeats, wait estimates and /metrics:
// - throughput: an exponentially weighted rate of finished jobs (time constant `rateTauMs`), so a
//   heartbeat shows the current pace and decays to 0 when the node stops finishing jobs;
// - service time per image: an EWMA over batches (batch time / batch size);
// - failure rate and failures by code over a sliding window, with the job count behind them, so the
//   edge can tell "no capacity" (slow, not failing) from "node failing" (fast failures).

export interface ThroughputOptions {
  /** Window of the failure rate. */
  windowMs?: number;
  /** Weight of the newest batch in the smoothed service time. */
  alpha?: number;
  /** Time constant of the throughput EWMA. */
  rateTauMs?: number;
  now?: () => number;
}

interface Sample {
  at: number;
  jobs: number;
  failed: number;
  codes: readonly string[];
}

export class ThroughputMeter {
  private readonly windowMs: number;
  private readonly alpha: number;
  private readonly tauMs: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private samples: Sample[] = [];
  private smoothedMsPerJob: number | null = null;
  /** Sum of jobs x exp(-(t - t_job) / tau), as of `weightedAt`. */
  private weightedJobs = 0;
  private weightedAt: number;

  constructor(opts: ThroughputOptions = {}) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.alpha = opts.alpha ?? 0.3;
    this.tauMs = opts.rateTauMs ?? 15_000;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.weightedAt = this.startedAt;
  }

  /**
   * One finished batch: how many jobs it held, how many failed (with their failure codes, when
   * known), and how long it took.
   */
  record(
    jobs: number,
    failed: number,
    serviceMs: number,
    failureCodes: readonly string[] = [],
  ): void {
    if (jobs < 1) return;
    const at = this.now();
    this.samples.push({ at, jobs, failed, codes: failureCodes });
    this.weightedJobs = this.decayedTo(at) + jobs;
    this.weightedAt = at;
    const perJob = serviceMs / jobs;
    this.smoothedMsPerJob =
      this.smoothedMsPerJob === null
        ? perJob
        : this.alpha * perJob + (1 - this.alpha) * this.smoothedMsPerJob;
  }

  /** Jobs finished per second, exponentially weighted (corrected while the node is younger than tau). */
  perSecond(): number {
    const now = this.now();
    const age = Math.max(1, now - this.startedAt);
    // The weights of a constant rate over [start, now] sum to tau x (1 - exp(-age / tau)).
    const span = this.tauMs * (1 - Math.exp(-age / this.tauMs));
    return (this.decayedTo(now) / Math.max(span, 1_000)) * 1_000;
  }

  /** Share of recent jobs that failed; 0 with no recent jobs. */
  failureRate(): number {
    const recent = this.recent();
    const jobs = recent.reduce((n, s) => n + s.jobs, 0);
    return jobs === 0 ? 0 : recent.reduce((n, s) => n + s.failed, 0) / jobs;
  }

  /** Jobs finished (succeeded or failed) within the window. */
  recentJobs(): number {
    return this.recent().reduce((n, s) => n + s.jobs, 0);
  }

  /** Failures within the window by code (only failures recorded with a code). */
  recentFailures(): Record<string, number> {
    const byCode: Record<string, number> = {};
    for (const sample of this.recent()) {
      for (const code of sample.codes) byCode[code] = (byCode[code] ?? 0) + 1;
    }
    return byCode;
  }

  /** Smoothed service time per job, or null before the first batch. */
  msPerJob(): number | null {
    return this.smoothedMsPerJob;
  }

  private decayedTo(at: number): number {
    return this.weightedJobs * Math.exp(-Math.max(0, at - this.weightedAt) / this.tauMs);
  }

  private recent(): Sample[] {
    const horizon = this.now() - this.windowMs;
    const firstKept = this.samples.findIndex((s) => s.at > horizon);
    this.samples = firstKept < 0 ? [] : this.samples.slice(firstKept);
    return this.samples;
  }
}
