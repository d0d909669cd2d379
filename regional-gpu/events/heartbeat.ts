import { Heartbeat, REGION_PATHS } from "../../contracts/region-protocol.ts";
import type { SigningKey } from "../../contracts/signing.ts";
import type { Logger } from "../log.ts";
import { signedPost, undiciFetch, type Fetch } from "./signed-post.ts";

// Tells the edge's region directory how this node is doing, every interval and at once on changes that
// matter for routing (ready, draining). Failures are logged when they start and when they end, never
// thrown: a node keeps serving whether or not the edge hears it.

export interface HeartbeatOptions {
  edgeUrl: string;
  region: string;
  /** This region's key (the previous one during a rotation: contracts/region-keys.ts). */
  signingKey: SigningKey;
  intervalMs: number;
  snapshot: () => Promise<Heartbeat>;
  logger: Logger;
  fetch?: Fetch;
}

export class HeartbeatSender {
  private readonly opts: HeartbeatOptions;
  private readonly url: string;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private inFlight: Promise<void> | null = null;

  constructor(opts: HeartbeatOptions) {
    this.opts = opts;
    this.url = new URL(REGION_PATHS.heartbeat(opts.region), opts.edgeUrl).toString();
  }

  start(): void {
    if (this.timer) return;
    void this.beat();
    // A tick is skipped while the previous heartbeat is still out: a slow edge gets no pile-up.
    this.timer = setInterval(() => {
      if (!this.inFlight) void this.beat();
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Sends a heartbeat after any in flight (e.g. when draining starts); never rejects. */
  beat(): Promise<void> {
    const next = (this.inFlight ?? Promise.resolve()).then(() => this.send());
    this.inFlight = next;
    void next.finally(() => {
      if (this.inFlight === next) this.inFlight = null;
    });
    return next;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private async send(): Promise<void> {
    let problem: string | null = null;
    try {
      const beat = Heartbeat.parse(await this.opts.snapshot());
      const { status } = await signedPost(
        this.opts.fetch ?? undiciFetch,
        this.opts.signingKey,
        this.url,
        beat,
        { timeoutMs: Math.max(1_000, Math.min(this.opts.intervalMs, 5_000)) },
      );
      if (status < 200 || status >= 300) problem = `HTTP ${status}`;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    if (problem !== null && !this.failing) {
      this.opts.logger.warn("heartbeat failing", { url: this.url, problem });
    } else if (problem === null && this.failing) {
      this.opts.logger.info("heartbeat delivered again", { url: this.url });
    }
    this.failing = problem !== null;
  }
}
