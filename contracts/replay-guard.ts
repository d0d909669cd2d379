import { DEFAULT_TOLERANCE_S } from "./signing.ts";

/**
 * Where accepted signatures are remembered until they could no longer verify. `signedAt` is the
 * signature's own timestamp: it verifies until signedAt + tolerance, so it is kept until then and
 * never forgotten earlier. Sharing one store between processes (a Durable Object on Workers)
 * makes the guard exact across them.
 */
export interface NonceStore {
  /** True the first time `mac` is seen within its window; false for a replay. */
  firstSighting(scope: string, mac: string, signedAt: number): Promise<boolean>;
}

export interface ReplayGuardOptions {
  /** The signature tolerance: a signature whose timestamp is further than this from now is stale. */
  toleranceS?: number;
  clock?: () => number;
}

/**
 * An in-process NonceStore (Node and Deno edges; every regional node). Memory is bounded by the
 * window, not by a count: entries expire in one-second buckets at signedAt + tolerance, and none
 * is evicted while its signature could still verify. At 1,000 signed requests per second with the
 * default tolerance (300 s) it holds about 300,000 MACs: measured ~175 bytes each, ~50 MiB
 * (`npm run bench:replay-guard`, docs/benchmarks.md). Only verified signatures are stored, so a
 * flood of forgeries costs nothing.
 */
export class ReplayGuard implements NonceStore {
  /** mac -> expiry (epoch seconds). */
  readonly #seen = new Map<string, number>();
  /** Expiry second -> MACs expiring then. */
  readonly #buckets = new Map<number, string[]>();
  readonly #toleranceS: number;
  readonly #clock: () => number;
  /** Every bucket before this second has been swept. */
  #sweptTo: number;

  constructor(opts: ReplayGuardOptions = {}) {
    this.#toleranceS = opts.toleranceS ?? DEFAULT_TOLERANCE_S;
    this.#clock = opts.clock ?? Date.now;
    this.#sweptTo = Math.floor(this.#clock() / 1000);
  }

  get size(): number {
    return this.#seen.size;
  }

  firstSighting(scope: string, mac: string, signedAt: number): Promise<boolean> {
    return Promise.resolve(this.firstSightingNow(scope, mac, signedAt));
  }

  /** firstSighting, synchronously. */
  firstSightingNow(scope: string, mac: string, signedAt: number): boolean {
    const nowS = Math.floor(this.#clock() / 1000);
    this.#sweep(nowS);
    const key = `${scope}:${mac}`;
    const until = this.#seen.get(key);
    if (until !== undefined && until >= nowS) return false;
    // Verifiable while |now - signedAt| <= tolerance: keep it through the last such second.
    const expires = Math.floor(signedAt / 1000) + this.#toleranceS + 1;
    this.#seen.set(key, expires);
    let bucket = this.#buckets.get(expires);
    if (!bucket) this.#buckets.set(expires, (bucket = []));
    bucket.push(key);
    return true;
  }

  #sweep(nowS: number) {
    if (nowS <= this.#sweptTo) return;
    // Second by second, or bucket by bucket after a long quiet spell (whichever is fewer).
    const seconds =
      nowS - this.#sweptTo <= this.#buckets.size
        ? Array.from({ length: nowS - this.#sweptTo }, (_, i) => this.#sweptTo + i)
        : [...this.#buckets.keys()].filter((s) => s < nowS);
    for (const second of seconds) {
      const bucket = this.#buckets.get(second);
      if (!bucket) continue;
      this.#buckets.delete(second);
      for (const key of bucket) if (this.#seen.get(key) === second) this.#seen.delete(key);
    }
    this.#sweptTo = nowS;
  }
}
