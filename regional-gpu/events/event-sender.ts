import { REGION_PATHS, type JobEvent } from "../../contracts/region-protocol.ts";
import { settleWithin } from "../../contracts/settle-within.ts";
import type { SigningKey } from "../../contracts/signing.ts";
import type { Logger } from "../log.ts";
import { signedPost, undiciFetch, type Fetch } from "./signed-post.ts";

// Delivers JobEvents to the edge (the configured EDGE_URL; a job's callback_url only where none is
// configured, in-process tests): signed, in order per job, retried with exponential
// backoff and jitter on network errors, timeouts, 408, 429 and 5xx, so an edge that is briefly
// unreachable loses nothing. Delivery never throws; what could not be delivered is logged.

export interface EventSenderOptions {
  /** This region's key (the previous one during a rotation: contracts/region-keys.ts). */
  signingKey: SigningKey;
  /**
   * The edge this region reports to, and the region's name: events go to its events route and
   * nowhere else, whatever callback a job names (a job cannot point a region at another host).
   */
  edge?: { url: string; region: string };
  logger: Logger;
  fetch?: Fetch;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  random?: () => number;
}

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export class EventSender {
  private readonly opts: Required<Omit<EventSenderOptions, "fetch" | "edge">> & {
    fetch: Fetch;
  };
  private readonly target: string | null;
  /** The tail of each job's delivery chain, so its events arrive in the order they were sent. */
  private readonly chains = new Map<string, Promise<boolean>>();
  private readonly stop = new AbortController();

  constructor(opts: EventSenderOptions) {
    this.opts = {
      fetch: undiciFetch,
      maxAttempts: 10,
      baseDelayMs: 250,
      maxDelayMs: 15_000,
      timeoutMs: 10_000,
      random: Math.random,
      ...opts,
    };
    this.target = opts.edge
      ? new URL(REGION_PATHS.events(opts.edge.region), opts.edge.url).toString()
      : null;
  }

  /** Queues the event behind earlier events of its job; resolves true once delivered. */
  send(callbackUrl: string, event: JobEvent): Promise<boolean> {
    const previous = this.chains.get(event.job_id) ?? Promise.resolve(true);
    const url = this.target ?? callbackUrl;
    const delivery = previous.then(() => this.deliver(url, event));
    this.chains.set(event.job_id, delivery);
    void delivery.then(() => {
      if (this.chains.get(event.job_id) === delivery) this.chains.delete(event.job_id);
    });
    return delivery;
  }

  pending(): number {
    return this.chains.size;
  }

  /** Jobs with an event not yet delivered (or given up on). */
  pendingJobs(): IterableIterator<string> {
    return this.chains.keys();
  }

  /** Waits for queued deliveries up to `timeoutMs`, then abandons the rest (logged). */
  async close(timeoutMs: number): Promise<void> {
    await settleWithin(Promise.all(this.chains.values()), timeoutMs);
    this.stop.abort();
    await Promise.all(this.chains.values());
  }

  private async deliver(url: string, event: JobEvent): Promise<boolean> {
    const log = this.opts.logger.child({ request_id: event.request_id, job_id: event.job_id });
    let lastProblem = "";
    for (let attempt = 1; attempt <= this.opts.maxAttempts; attempt++) {
      if (this.stop.signal.aborted) break;
      try {
        const { status } = await signedPost(this.opts.fetch, this.opts.signingKey, url, event, {
          timeoutMs: this.opts.timeoutMs,
          requestId: event.request_id,
          signal: this.stop.signal,
        });
        if (status >= 200 && status < 300) {
          if (attempt > 1)
            log.info("job event delivered after retries", { event: event.type, attempt });
          return true;
        }
        lastProblem = `HTTP ${status}`;
        if (!retryable(status)) {
          log.error("job event refused by the edge", { event: event.type, status, url });
          return false;
        }
      } catch (err) {
        lastProblem = err instanceof Error ? err.message : String(err);
      }
      if (attempt < this.opts.maxAttempts) {
        log.warn("job event delivery failed; retrying", {
          event: event.type,
          attempt,
          problem: lastProblem,
        });
        await this.backoff(attempt);
      }
    }
    log.error("job event lost", {
      event: event.type,
      url,
      problem: lastProblem,
      event_body: event,
    });
    return false;
  }

  private backoff(attempt: number): Promise<void> {
    const cap = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (attempt - 1));
    const delay = cap / 2 + (this.opts.random() * cap) / 2;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stop.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, delay);
      this.stop.signal.addEventListener("abort", done, { once: true });
    });
  }
}
