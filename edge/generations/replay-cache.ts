import type { GenerationRow } from "../../db/schema/generations.ts";
import type { GenerationNotifier } from "./generation-notifier.ts";

// The Idempotency-Keys this isolate has answered, so that a replay arriving here (a client retrying
// after a lost answer: the common case) is answered without a round trip to the database. The key
// -> generation binding cannot change while the key lives (24 h); the generation's row can, so the
// copy kept of it is dropped at any change applied in this isolate, and trusted for `rowTtlMs` at
// most (changes applied in another isolate or process are not seen here).

/** An Idempotency-Key is remembered this long; afterwards the key starts a new generation. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

export interface ReplayCacheOptions {
  clock: () => number;
  /** How long the key -> generation binding lasts (default: the Idempotency-Key's lifetime). */
  keyTtlMs?: number;
  /** How long a copy of the row answers a replay without a read (other isolates' changes). */
  rowTtlMs: number;
  maxEntries?: number;
  /** Changes applied in this isolate drop the copy at once. */
  notifier: GenerationNotifier;
}

export interface KnownReplay {
  generationId: string;
  requestHash: string;
  /** The row as this isolate last saw it, while that is fresh; null: read it. */
  row: GenerationRow | null;
}

interface Entry {
  generationId: string;
  requestHash: string;
  expiresAt: number;
  row: GenerationRow | null;
  rowSeenAt: number;
}

export class ReplayCache {
  readonly #entries = new Map<string, Entry>();
  /** generation id -> entry key, to drop the copy on a change. */
  readonly #byGeneration = new Map<string, string>();
  readonly #o: Required<Omit<ReplayCacheOptions, "notifier">>;

  constructor({ notifier, ...opts }: ReplayCacheOptions) {
    this.#o = { maxEntries: 10_000, keyTtlMs: IDEMPOTENCY_KEY_TTL_MS, ...opts };
    notifier.onChange((id) => {
      const entry = this.#entries.get(this.#byGeneration.get(id) ?? "");
      if (entry) entry.row = null;
    });
  }

  get(accountId: string, idempotencyKey: string): KnownReplay | null {
    const key = keyOf(accountId, idempotencyKey);
    const entry = this.#entries.get(key);
    if (!entry) return null;
    const now = this.#o.clock();
    if (now >= entry.expiresAt) {
      this.#drop(key, entry);
      return null;
    }
    const fresh = entry.row !== null && now - entry.rowSeenAt <= this.#o.rowTtlMs;
    return {
      generationId: entry.generationId,
      requestHash: entry.requestHash,
      row: fresh ? entry.row : null,
    };
  }

  /** Remembers a generation made (or found) with an Idempotency-Key, as it stands now. */
  remember(row: GenerationRow): void {
    if (row.idempotencyKey === null || row.requestHash === null) return;
    const key = keyOf(row.accountId, row.idempotencyKey);
    const old = this.#entries.get(key);
    if (old) this.#drop(key, old);
    this.#entries.set(key, {
      generationId: row.id,
      requestHash: row.requestHash,
      expiresAt: row.createdAt.getTime() + this.#o.keyTtlMs,
      row,
      rowSeenAt: this.#o.clock(),
    });
    this.#byGeneration.set(row.id, key);
    while (this.#entries.size > this.#o.maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value!;
      this.#drop(oldestKey, oldest);
    }
  }

  /** Forgets a key (it expired, and a new generation may take it). */
  forget(accountId: string, idempotencyKey: string): void {
    const key = keyOf(accountId, idempotencyKey);
    const entry = this.#entries.get(key);
    if (entry) this.#drop(key, entry);
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    if (this.#byGeneration.get(entry.generationId) === key) {
      this.#byGeneration.delete(entry.generationId);
    }
  }
}

const keyOf = (accountId: string, idempotencyKey: string) => `${accountId}\n${idempotencyKey}`;
