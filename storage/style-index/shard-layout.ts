import type { StyleEntry } from "./style-index.ts";

// Which shard holds an output: private outputs by their account (every output of an account in one
// shard, so a tenant's own search touches one private shard), public ones spread over shards of
// their own by id. Jump consistent hashing (Lamping & Veach, 2014): growing from n to n + 1 shards
// moves only 1/(n + 1) of the keys, so a reshard copies a fraction of the index, not all of it.

export interface ShardCounts {
  private: number;
  public: number;
}

/** FNV-1a, 64-bit, of the UTF-8 bytes of `key`. */
function fnv1a64(key: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

/** Jump consistent hash of `key` into 0..buckets-1. */
export function jumpHash(key: string, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError("buckets must be >= 1");
  let k = fnv1a64(key);
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777619973n + 1n) & 0xffffffffffffffffn;
    j = Math.floor(((b + 1) * 2 ** 31) / (Number(k >> 33n) + 1));
  }
  return b;
}

export class ShardLayout {
  readonly counts: ShardCounts;

  constructor(counts: ShardCounts) {
    if (!Number.isInteger(counts.private) || counts.private < 1) {
      throw new RangeError("a shard layout needs at least one private shard");
    }
    if (!Number.isInteger(counts.public) || counts.public < 0) {
      throw new RangeError("public shards must be a whole number");
    }
    this.counts = { ...counts };
  }

  /** Private shards are 0..private-1, public ones follow (none: public outputs stay private-sharded). */
  get size(): number {
    return this.counts.private + this.counts.public;
  }

  /** The shard of `accountId`'s private outputs. */
  privateShardOf(accountId: string): number {
    return jumpHash(accountId, this.counts.private);
  }

  /** Where `entry` lives. */
  shardOf(entry: Pick<StyleEntry, "id" | "accountId" | "visibility">): number {
    if (entry.visibility === "public" && this.counts.public > 0) {
      return this.counts.private + jumpHash(entry.id, this.counts.public);
    }
    return this.privateShardOf(entry.accountId);
  }

  /** The shards a viewer's query reads: its own private shard and every public shard. */
  shardsFor(accountId: string): number[] {
    const own = this.privateShardOf(accountId);
    if (this.counts.public === 0) return Array.from({ length: this.counts.private }, (_, i) => i);
    const publics = Array.from({ length: this.counts.public }, (_, i) => this.counts.private + i);
    return [own, ...publics];
  }
}
