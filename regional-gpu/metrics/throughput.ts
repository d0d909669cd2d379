// Recent throughput of this node: completed jobs per second and failure rate over a sliding window, and
// a smoothed service time per job for queue-wait estimates and heartbeats.

export interface ThroughputOptions {
  windowMs?: number;
  /** Weight of the newest batch in the smoothed service time. */
  alpha?: number;
  now?: () => number;
}

interface Sample {
  at: number;
  jobs: number;
  failed: number;
}

export class ThroughputMeter {
  private readonly windowMs: number;
  private readonly alpha: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private samples: Sample[] = [];
  private smoothedMsPerJob: number | null = null;

  constructor(opts: ThroughputOptions = {}) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.alpha = opts.alpha ?? 0.3;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** One finished batch: how many jobs it held, how many failed, and how long it took. */
  record(jobs: number, failed: number, serviceMs: number): void {
    if (jobs < 1) return;
    this.samples.push({ at: this.now(), jobs, failed });
    const perJob = serviceMs / jobs;
    this.smoothedMsPerJob =
      this.smoothedMsPerJob === null
        ? perJob
        : this.alpha * perJob + (1 - this.alpha) * this.smoothedMsPerJob;
  }

  /** Jobs finished per second over the window (or the node's lifetime, when shorter). */
  perSecond(): number {
    const jobs = this.recent().reduce((n, s) => n + s.jobs, 0);
    const spanMs = Math.min(this.windowMs, Math.max(1_000, this.now() - this.startedAt));
    return jobs / (spanMs / 1000);
  }

  /** Share of recent jobs that failed; 0 with no recent jobs. */
  failureRate(): number {
    const recent = this.recent();
    const jobs = recent.reduce((n, s) => n + s.jobs, 0);
    return jobs === 0 ? 0 : recent.reduce((n, s) => n + s.failed, 0) / jobs;
  }

  /** Smoothed service time per job, or null before the first batch. */
  msPerJob(): number | null {
    return this.smoothedMsPerJob;
  }

  private recent(): Sample[] {
    const horizon = this.now() - this.windowMs;
    const firstKept = this.samples.findIndex((s) => s.at > horizon);
    this.samples = firstKept < 0 ? [] : this.samples.slice(firstKept);
    return this.samples;
  }
}
