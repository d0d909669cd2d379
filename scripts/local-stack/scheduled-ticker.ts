// `wrangler dev` does not run cron triggers by itself: it serves them at /cdn-cgi/local/scheduled.
// The stack calls that once a minute, as the `* * * * *` trigger of wrangler.toml does in a
// deployment, so the Worker's scheduled work (webhook retries) happens locally too.

export class ScheduledTicker {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running = false;
  private readonly url: string;
  private readonly intervalMs: number;
  private readonly warn: (message: string) => void;

  constructor(url: string, { intervalMs = 60_000, warn = (m: string) => console.error(m) } = {}) {
    this.url = url;
    this.intervalMs = intervalMs;
    this.warn = warn;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One trigger; skipped while the previous one is still running. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // A Worker's scheduled handler may run for a while (waitUntil work included).
      const res = await fetch(this.url, { signal: AbortSignal.timeout(5 * 60_000) });
      await res.body?.cancel();
      if (!res.ok) this.warn(`scheduled trigger: ${this.url} answered ${res.status}`);
    } catch (error) {
      this.warn(`scheduled trigger: ${this.url} failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
