import type { Database } from "../../db/client/types.ts";
import { hiddenAssetKeys } from "../../db/queries/reviews.ts";

export interface HiddenAssetsOptions {
  db: Database;
  clock: () => number;
  /** How long one read of the hidden keys is reused (a hide elsewhere reaches this isolate within it). */
  ttlMs: number;
}

/**
 * The asset keys hidden by reports or removed, as this isolate last read them: the asset route's
 * response-cache path answers from cache without a database read, so it asks here first (a Set
 * lookup) whether a cached public copy may still be served. Hides made in this isolate count at once.
 */
export class HiddenAssets {
  readonly #o: HiddenAssetsOptions;
  #keys = new Set<string>();
  /** Hidden here since the last read began (the database has them once a later read does). */
  #local = new Map<string, number>();
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | null = null;

  constructor(opts: HiddenAssetsOptions) {
    this.#o = opts;
  }

  async has(key: string): Promise<boolean> {
    if (this.#o.clock() - this.#readAt >= this.#o.ttlMs) await this.#refresh();
    return this.#keys.has(key) || this.#local.has(key);
  }

  /** Hidden by this isolate: no cached copy is served from now on, before the next read. */
  add(key: string): void {
    this.#local.set(key, this.#o.clock());
  }

  #refresh(): Promise<void> {
    this.#reading ??= (async () => {
      const startedAt = this.#o.clock();
      try {
        this.#keys = await hiddenAssetKeys(this.#o.db);
        for (const [key, at] of this.#local) if (at < startedAt) this.#local.delete(key);
        this.#readAt = startedAt;
      } finally {
        this.#reading = null;
      }
    })();
    return this.#reading;
  }
}
