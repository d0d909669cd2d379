// Least-recently-used bookkeeping by bytes, shared by the hot tier (sessions in memory) and the warm
// tier (model folders on disk). It only decides; the owner evicts, since eviction is async and a
// busy entry may have to wait.

interface Entry {
  bytes: number;
  pinned: boolean;
}

export class ByteLru<K> {
  /** Insertion order is recency order: a touch moves the key to the end. */
  private readonly entries = new Map<K, Entry>();
  private used = 0;

  get totalBytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  bytesOf(key: K): number | undefined {
    return this.entries.get(key)?.bytes;
  }

  isPinned(key: K): boolean {
    return this.entries.get(key)?.pinned ?? false;
  }

  /** Adds or replaces an entry as the most recently used. A pinned entry is never a victim. */
  set(key: K, bytes: number, opts: { pinned?: boolean } = {}): void {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`invalid size ${bytes}`);
    const old = this.entries.get(key);
    this.delete(key);
    this.entries.set(key, { bytes, pinned: opts.pinned ?? old?.pinned ?? false });
    this.used += bytes;
  }

  pin(key: K): void {
    const entry = this.entries.get(key);
    if (entry) entry.pinned = true;
  }

  /** Marks a use: the key becomes the most recently used. */
  touch(key: K): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.used -= entry.bytes;
    return true;
  }

  /** Pinned bytes: what no eviction can free. */
  pinnedBytes(): number {
    let sum = 0;
    for (const e of this.entries.values()) if (e.pinned) sum += e.bytes;
    return sum;
  }

  /**
   * Keys to evict, least recently used first, so that `extra` more bytes fit within `limit`. Pinned
   * keys and those `keep` protects are skipped. When even all candidates are not enough, every
   * candidate is returned and `fits` is false.
   */
  victims(limit: number, extra = 0, keep: (key: K) => boolean = () => false) {
    const keys: K[] = [];
    let over = this.used + extra - limit;
    for (const [key, entry] of this.entries) {
      if (over <= 0) break;
      if (entry.pinned || keep(key)) continue;
      keys.push(key);
      over -= entry.bytes;
    }
    return { keys, fits: over <= 0 };
  }

  /** Keys from least to most recently used. */
  keys(): K[] {
    return [...this.entries.keys()];
  }
}
