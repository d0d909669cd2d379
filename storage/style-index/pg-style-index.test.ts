import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { styleIndex } from "../../db/schema/style-index.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { PgStyleIndex } from "./pg-style-index.ts";
import { ShardLayout } from "./shard-layout.ts";
import { ShardedStyleIndex } from "./sharded-style-index.ts";
import { describeStyleIndexContract, direction, entry } from "./style-index.contract.ts";

// The Postgres backend on real PGlite with pgvector: one shard, and four shards of one table
// behind the sharded index.

let handle: PgliteHandle;
beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(async () => {
  await handle?.close();
});

const emptied = async () => {
  await handle.db.delete(styleIndex);
};

describeStyleIndexContract("PgStyleIndex", async () => {
  await emptied();
  return new PgStyleIndex({ db: handle.db, shard: 5 });
});

describeStyleIndexContract("ShardedStyleIndex over 4 Postgres shards", async () => {
  await emptied();
  const layout = new ShardLayout({ private: 3, public: 1 });
  return new ShardedStyleIndex(
    layout,
    Array.from({ length: layout.size }, (_, shard) => new PgStyleIndex({ db: handle.db, shard })),
  );
});

describe("PgStyleIndex", () => {
  it("walks its own shard's HNSW graph (the partial index of that shard)", async () => {
    await emptied();
    const index = new PgStyleIndex({ db: handle.db, shard: 6 });
    await index.upsert(Array.from({ length: 50 }, (_, i) => entry({ embedding: direction(i) })));
    const plan = await handle.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const result = await tx.execute<{ "QUERY PLAN": string }>(
        sql`explain select id from style_index where shard = 6
            order by embedding <=> ${JSON.stringify(direction(3))}::vector limit 5`,
      );
      return result.rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
    expect(plan).toMatch(/Index Scan using style_index_shard_6_embedding_idx/);
  });

  it("keeps shards apart in one table", async () => {
    await emptied();
    const [zero, one] = [0, 1].map((shard) => new PgStyleIndex({ db: handle.db, shard }));
    const a = entry({ embedding: direction(3) });
    await zero!.upsert([a]);
    const viewer = { accountId: a.accountId };
    expect(await one!.query({ embedding: direction(3), viewer, limit: 5 })).toEqual([]);
    await one!.remove([a.id]);
    expect(
      (await zero!.query({ embedding: direction(3), viewer, limit: 5 })).map((h) => h.id),
    ).toEqual([a.id]);
    expect(() => new PgStyleIndex({ db: handle.db, shard: 8 })).toThrow(RangeError);
  });

  it("fills a filtered page from the HNSW graph with iterative scans (lost without them)", async () => {
    await emptied();
    // 600 public entries around the query; the 3 of model "rare" are far down the ranking. The
    // planner is made to walk the graph (as it does on a large shard).
    const crowd = Array.from({ length: 600 }, (_, i) =>
      entry({ visibility: "public", embedding: direction(80, (i % 60) * 0.01) }),
    );
    const rare = [1, 1.5, 2].map((tilt) =>
      entry({ visibility: "public", model: "rare", embedding: direction(80, tilt) }),
    );
    const viaGraph = { enable_seqscan: "off", enable_bitmapscan: "off", enable_indexscan: "on" };
    const seed = new PgStyleIndex({ db: handle.db, shard: 7 });
    await seed.upsert([...crowd, ...rare]);
    const query = {
      embedding: direction(80),
      viewer: { accountId: "acct_viewer000000000000000000" },
      filters: { model: "rare" },
      limit: 10,
    };
    const iterative = new PgStyleIndex({
      db: handle.db,
      shard: 7,
      efSearch: 40,
      settings: viaGraph,
    });
    expect((await iterative.query(query)).map((h) => h.id)).toEqual(rare.map((r) => r.id));
    const oneWalk = new PgStyleIndex({
      db: handle.db,
      shard: 7,
      efSearch: 40,
      settings: { ...viaGraph, "hnsw.iterative_scan": "off" },
    });
    expect((await oneWalk.query(query)).length).toBeLessThan(rare.length);
  });
});
