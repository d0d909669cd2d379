import { DEFAULT_TOLERANCE_S } from "./signing.ts";

export interface ReplayGuardOptions {
  /** The signature tolerance: a signature older than this is refused as stale anyway. */
  toleranceS?: number;
  /** Bound on remembered signatures; the oldest are forgotten first past it. */
  maxEntries?: number;
  clock?: () => number;
}

/**
 * Remembers the signatures of signed calls (contracts/signing.ts) accepted here for as long as they
 * would verify, so a captured request cannot be replayed: the edge guards region -> edge calls (per
 * isolate), a regional node guards edge -> region calls (per node). Together with the timestamp
 * tolerance it bounds a replay to at most once per process. Senders sign every attempt afresh with
 * a random nonce, so their own retries are never refused.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #clock: () => number;

  constructor(opts: ReplayGuardOptions = {}) {
    // Timestamps are accepted up to the tolerance on either side of now.
    this.#windowMs = 2 * (opts.toleranceS ?? DEFAULT_TOLERANCE_S) * 1000;
    this.#maxEntries = opts.maxEntries ?? 50_000;
    this.#clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** True the first time a signature is seen within its window; false for a replay. */
  firstSighting(signature: string): boolean {
    const now = this.#clock();
    this.#forgetExpired(now);
    const until = this.#seen.get(signature);
    if (until !== undefined && until > now) return false;
    if (this.#seen.size >= this.#maxEntries) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.set(signature, now + this.#windowMs);
    return true;
  }

  // Insertion order is expiry order (same window for all), so expired entries sit at the front.
  #forgetExpired(now: number) {
    for (const [sig, until] of this.#seen) {
      if (until > now) break;
      this.#seen.delete(sig);
    }
  }
}
