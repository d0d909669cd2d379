import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { PgStyleIndex } from "./pg-style-index.ts";
import { jumpHash, ShardLayout } from "./shard-layout.ts";
import { mergeNearest, ShardedStyleIndex } from "./sharded-style-index.ts";
import {
  byDistance,
  visibleTo,
  type StyleEntry,
  type StyleHit,
  type StyleIndex,
  type StyleQuery,
} from "./style-index.ts";
import { LocalVectorize } from "./vectorize-stand-in.ts";
import { STYLE_METADATA_INDEXES, VectorizeStyleIndex } from "./vectorize-style-index.ts";

// Sharding is tested, not promised: the same entries and queries through one shard and through
// four give the same top-k, and both equal an exact scan.

/** mulberry32: a small seeded PRNG, so the data set is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const accounts = Array.from({ length: 24 }, (_, i) => `acct_${String(i).padStart(26, "0")}`);

/** 1200 entries in 30 style clusters, a fifth public, a few hidden, over 24 accounts. */
function dataset(): StyleEntry[] {
  const next = random(20261201);
  const gauss = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  const centres = Array.from({ length: 30 }, () =>
    Array.from({ length: STYLE_EMBEDDING_DIMS }, gauss),
  );
  return Array.from({ length: 1200 }, (_, i) => {
    const centre = centres[Math.floor(next() * centres.length)]!;
    return {
      id: `gen_${String(i).padStart(26, "0")}`,
      accountId: accounts[Math.floor(next() * accounts.length)]!,
      projectId: next() < 0.5 ? "proj_a" : null,
      model: "cppn-glove",
      modelVersion: next() < 0.3 ? "v1" : "v2",
      visibility: next() < 0.2 ? "public" : "private",
      hidden: next() < 0.03,
      generatedAt: Date.UTC(2026, 0, 1) + i * 3_600_000,
      embedding: centre.map((x) => x + gauss() * 0.6),
    };
  });
}

const cosineDistance = (a: readonly number[], b: readonly number[]) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return 1 - dot / Math.sqrt(na * nb);
};

function exact(entries: readonly StyleEntry[], query: StyleQuery): string[] {
  return entries
    .filter((e) => visibleTo(e, query))
    .map((e) => ({ id: e.id, distance: cosineDistance(e.embedding, query.embedding) }))
    .sort(byDistance)
    .slice(0, query.limit)
    .map((h) => h.id);
}

function queries(entries: readonly StyleEntry[]): StyleQuery[] {
  return accounts.slice(0, 12).flatMap((accountId, i) => {
    const embedding = entries[i * 97]!.embedding;
    return [
      { embedding, viewer: { accountId }, limit: 10 },
      { embedding, viewer: { accountId }, limit: 25, filters: { projectId: "proj_a" } },
      { embedding, viewer: { accountId }, limit: 10, filters: { modelVersion: "v1" } },
    ];
  });
}

const ids = (hits: StyleHit[]) => hits.map((h) => h.id);

async function compare(one: StyleIndex, four: StyleIndex, entries: StyleEntry[]) {
  await one.upsert(entries);
  await four.upsert(entries);
  let compared = 0;
  for (const query of queries(entries)) {
    const expected = exact(entries, query);
    expect(ids(await one.query(query))).toEqual(expected);
    expect(ids(await four.query(query))).toEqual(expected);
    compared += expected.length;
  }
  expect(compared).toBeGreaterThan(300);
}

describe("4 shards give the same top-k as one", () => {
  // One database holds the single shard, another the four (one table, a graph per shard).
  let single: PgliteHandle;
  let sharded: PgliteHandle;
  beforeAll(async () => {
    [single, sharded] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => {
    await single?.close();
    await sharded?.close();
  });

  it("on Postgres", async () => {
    // A graph this small is walked whole at this ef_search: results are exact.
    const pg = (handle: PgliteHandle, shard: number) =>
      new PgStyleIndex({ db: handle.db, shard, efSearch: 400 });
    const layout = new ShardLayout({ private: 2, public: 2 });
    const four = new ShardedStyleIndex(
      layout,
      [0, 1, 2, 3].map((shard) => pg(sharded, shard)),
    );
    await compare(pg(single, 0), four, dataset());
  }, 120_000);

  it("on Vectorize", async () => {
    const vectorize = () =>
      new LocalVectorize({
        dimensions: STYLE_EMBEDDING_DIMS,
        metadataIndexes: STYLE_METADATA_INDEXES,
      });
    const layout = new ShardLayout({ private: 4, public: 0 });
    const four = new ShardedStyleIndex(
      layout,
      Array.from({ length: 4 }, () => new VectorizeStyleIndex({ binding: vectorize() })),
    );
    await compare(new VectorizeStyleIndex({ binding: vectorize() }), four, dataset());
  });
});

describe("ShardLayout", () => {
  it("keeps an account's private outputs in one shard and spreads public ones", () => {
    const layout = new ShardLayout({ private: 4, public: 2 });
    const home = layout.privateShardOf(accounts[0]!);
    for (let i = 0; i < 20; i++) {
      expect(
        layout.shardOf({ id: `gen_${i}`, accountId: accounts[0]!, visibility: "private" }),
      ).toBe(home);
    }
    const publicShards = new Set(
      Array.from({ length: 200 }, (_, i) =>
        layout.shardOf({ id: `gen_${i}`, accountId: accounts[0]!, visibility: "public" }),
      ),
    );
    expect([...publicShards].sort()).toEqual([4, 5]);
    expect(layout.shardsFor(accounts[0]!)).toEqual([home, 4, 5]);
    expect(new ShardLayout({ private: 3, public: 0 }).shardsFor("a")).toEqual([0, 1, 2]);
  });

  it("balances keys and moves only about 1/(n+1) of them when a shard is added", () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `acct_${i.toString(36)}`);
    const counts = new Array<number>(8).fill(0);
    for (const key of keys) counts[jumpHash(key, 8)]! += 1;
    for (const c of counts) expect(Math.abs(c - 2_500)).toBeLessThan(250);
    const moved = keys.filter((k) => jumpHash(k, 8) !== jumpHash(k, 9)).length;
    expect(moved / keys.length).toBeGreaterThan(0.09);
    expect(moved / keys.length).toBeLessThan(0.13);
    // Keys that move go to the new shard only.
    for (const k of keys) if (jumpHash(k, 8) !== jumpHash(k, 9)) expect(jumpHash(k, 9)).toBe(8);
  });

  it("merges nearest-first lists into one", () => {
    const a = [
      { id: "a", distance: 0.1 },
      { id: "c", distance: 0.3 },
    ];
    const b = [
      { id: "b", distance: 0.1 },
      { id: "d", distance: 0.2 },
    ];
    expect(ids(mergeNearest([a, b, []], 3))).toEqual(["a", "b", "d"]);
    expect(ids(mergeNearest([a, b], 10))).toEqual(["a", "b", "d", "c"]);
  });
});
