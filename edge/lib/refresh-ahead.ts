// In-isolate copies of slowly changing rows (regions, prices, budgets, model versions) that a
// request never waits to re-read while traffic keeps them warm: a value is served while it is
// younger than `ttlMs` (the staleness each cache documents, unchanged: a copy's age counts from
// when its read began), and once it is past half of that a new one is read in the background.
// Only a copy that has run out, or was never read, is read on the request's path. `invalidate`
// is for changes this isolate makes and must see at once: a read already under way when it is
// called can no longer land.

export type Background = (work: Promise<unknown>) => void;

export interface RefreshAheadOptions<K, V> {
  load: (key: K) => Promise<V>;
  ttlMs: number;
  /** Default Date.now; `get` may be given the time instead. */
  clock?: () => number;
  /** Where re-reads run (Workers' waitUntil); default, detached. They never reject. */
  background?: Background;
  /** Whether a value is kept at all (e.g. only found rows); default all. */
  keep?: (value: V) => boolean;
  /** Bound on keys kept; the oldest read goes first. */
  maxEntries?: number;
}

interface Entry<V> {
  value: Promise<V>;
  loadedAt: number;
  refreshing: boolean;
}

export class RefreshAhead<K, V> {
  readonly #o: Required<RefreshAheadOptions<K, V>>;
  readonly #entries = new Map<K, Entry<V>>();

  constructor(opts: RefreshAheadOptions<K, V>) {
    this.#o = {
      clock: Date.now,
      background: (work) => void work,
      keep: () => true,
      maxEntries: 10_000,
      ...opts,
    };
  }

  /** The held copy while it is young enough (re-read behind it past half its life), else a read. */
  get(key: K, now = this.#o.clock(), background = this.#o.background): Promise<V> {
    const entry = this.#live(key, now);
    if (!entry) return this.#read(key, now);
    if (!entry.refreshing && now - entry.loadedAt >= this.#o.ttlMs / 2) {
      entry.refreshing = true;
      background(this.#refresh(key, entry, now));
    }
    return entry.value;
  }

  /** The copy if one is held and young enough; null otherwise (nothing is read). */
  peek(key: K, now = this.#o.clock()): Promise<V> | null {
    return this.#live(key, now)?.value ?? null;
  }

  /** Forgets `key` (or every key), reads under way included: the next get reads at once. */
  invalidate(key?: K): void {
    if (key === undefined) this.#entries.clear();
    else this.#entries.delete(key);
  }

  #live(key: K, now: number): Entry<V> | null {
    const entry = this.#entries.get(key);
    // A clock that went back says nothing about the copy's age: read again.
    if (!entry || now < entry.loadedAt || now - entry.loadedAt >= this.#o.ttlMs) return null;
    return entry;
  }

  #read(key: K, now: number): Promise<V> {
    const value = this.#o.load(key);
    const entry: Entry<V> = { value, loadedAt: now, refreshing: false };
    this.#store(key, entry);
    // A failed read, or a value not worth keeping, is not remembered.
    value.then(
      (v) => {
        if (!this.#o.keep(v) && this.#entries.get(key) === entry) this.#entries.delete(key);
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return value;
  }

  async #refresh(key: K, entry: Entry<V>, now: number): Promise<void> {
    try {
      const value = await this.#o.load(key);
      // Replaced meanwhile (invalidated, or read again): that one is newer.
      if (this.#entries.get(key) !== entry) return;
      if (this.#o.keep(value)) {
        this.#store(key, { value: Promise.resolve(value), loadedAt: now, refreshing: false });
      } else {
        this.#entries.delete(key);
      }
    } catch {
      // The held copy stays until it runs out; the next request past half its life tries again.
      entry.refreshing = false;
    }
  }

  #store(key: K, entry: Entry<V>): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#o.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}
