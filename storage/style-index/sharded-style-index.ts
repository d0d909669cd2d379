import type { ShardLayout } from "./shard-layout.ts";
import {
  byDistance,
  checkEntries,
  checkQuery,
  type StyleEntry,
  type StyleHit,
  type StyleIndex,
  type StyleQuery,
} from "./style-index.ts";

// The style index past one machine: a StyleIndex per shard (a Postgres shard, a Vectorize index),
// addressed by the shard layout. Writes go to the one shard an entry belongs in; a query fans out
// to the viewer's private shard and the public shards at once, and their nearest-first lists are
// merged. Each shard applies the viewer rule itself, so merging never has to.

export class ShardedStyleIndex implements StyleIndex {
  private readonly layout: ShardLayout;
  private readonly shards: readonly StyleIndex[];

  constructor(layout: ShardLayout, shards: readonly StyleIndex[]) {
    if (shards.length !== layout.size) {
      throw new RangeError(`the layout has ${layout.size} shards, ${shards.length} were given`);
    }
    this.layout = layout;
    this.shards = shards;
  }

  async upsert(entries: readonly StyleEntry[]): Promise<void> {
    checkEntries(entries);
    const writes = new Map<number, StyleEntry[]>();
    // An entry whose visibility changed has a copy in its other home: remove it there first.
    const stale = new Map<number, string[]>();
    for (const entry of entries) {
      const home = this.layout.shardOf(entry);
      const other = this.layout.shardOf({
        ...entry,
        visibility: entry.visibility === "public" ? "private" : "public",
      });
      push(writes, home, entry);
      if (other !== home) push(stale, other, entry.id);
    }
    await Promise.all([...stale].map(([shard, ids]) => this.shards[shard]!.remove(ids)));
    await Promise.all([...writes].map(([shard, batch]) => this.shards[shard]!.upsert(batch)));
  }

  /** Ids alone do not say where an entry lives: every shard is asked. */
  async remove(ids: readonly string[]): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.remove(ids)));
  }

  async query(query: StyleQuery): Promise<StyleHit[]> {
    checkQuery(query);
    const targets = this.layout.shardsFor(query.viewer.accountId);
    const lists = await Promise.all(targets.map((shard) => this.shards[shard]!.query(query)));
    return mergeNearest(lists, query.limit);
  }
}

function push<T>(map: Map<number, T[]>, key: number, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The `limit` nearest of several nearest-first lists (ids are unique across shards). */
export function mergeNearest(lists: readonly StyleHit[][], limit: number): StyleHit[] {
  const heads = lists.map(() => 0);
  const out: StyleHit[] = [];
  while (out.length < limit) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const hit = lists[i]![heads[i]!];
      if (hit && (best < 0 || byDistance(hit, lists[best]![heads[best]!]!) < 0)) best = i;
    }
    if (best < 0) break;
    out.push(lists[best]![heads[best]!]!);
    heads[best]! += 1;
  }
  return out;
}
