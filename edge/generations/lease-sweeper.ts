import type { Log } from "../lib/log.ts";
import { describeError } from "../lib/describe-error.ts";
import type { SweepReport } from "./lease-sweep.ts";

/**
 * Runs the lease sweep on a timer (Node and Deno; Workers use the cron trigger): once at start, so
 * an edge that restarts reconciles what it left in flight, then every `intervalMs`. Runs never
 * overlap; a failed run is logged and the next one tries again.
 */
export class LeaseSweeper {
  readonly #sweep: (run: { first: boolean }) => Promise<SweepReport>;
  readonly #intervalMs: number;
  readonly #log: Log;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | null = null;
  #stopped = false;
  #runs = 0;

  constructor(opts: {
    sweep: (run: { first: boolean }) => Promise<SweepReport>;
    intervalMs: number;
    log: Log;
  }) {
    this.#sweep = opts.sweep;
    this.#intervalMs = opts.intervalMs;
    this.#log = opts.log;
  }

  start(): void {
    if (this.#stopped || this.#timer || this.#running) return;
    this.#schedule(0);
  }

  /** Runs a sweep now (after the one under way, if any), e.g. from a test. */
  async runOnce(): Promise<void> {
    await this.#running;
    await this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run().finally(() => this.#schedule(this.#intervalMs));
    }, delayMs);
    // A sweep must not keep a process alive on its own.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #run(): Promise<void> {
    const run = (async () => {
      try {
        const report = await this.#sweep({ first: this.#runs++ === 0 });
        if (report.redispatched + report.waiting + report.failed + report.followersResolved > 0) {
          this.#log({ level: "info", msg: "lease sweep", ...report });
        }
      } catch (err) {
        this.#log({ level: "error", msg: "lease sweep failed", error: describeError(err) });
      }
    })();
    const tracked: Promise<void> = run.finally(() => {
      if (this.#running === tracked) this.#running = null;
    });
    this.#running = tracked;
    return tracked;
  }
}
