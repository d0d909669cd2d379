import { describe, expect, it } from "vitest";
import { STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import { ShardLayout } from "./shard-layout.ts";
import { ShardedStyleIndex } from "./sharded-style-index.ts";
import { describeStyleIndexContract, direction, entry } from "./style-index.contract.ts";
import { LocalVectorize } from "./vectorize-stand-in.ts";
import { STYLE_METADATA_INDEXES, VectorizeStyleIndex } from "./vectorize-style-index.ts";

// The Vectorize backend through its query and upsert paths, on the local stand-in that enforces
// Vectorize's documented limits.

const index = () =>
  new LocalVectorize({
    dimensions: STYLE_EMBEDDING_DIMS,
    metric: "cosine",
    metadataIndexes: STYLE_METADATA_INDEXES,
  });

describeStyleIndexContract(
  "VectorizeStyleIndex",
  async () => new VectorizeStyleIndex({ binding: index() }),
);

describeStyleIndexContract("ShardedStyleIndex over 4 Vectorize indexes", async () => {
  const layout = new ShardLayout({ private: 2, public: 2 });
  return new ShardedStyleIndex(
    layout,
    Array.from(
      { length: layout.size },
      (_, shard) =>
        new VectorizeStyleIndex({
          binding: index(),
          holds: shard < layout.counts.private ? "private" : "public",
        }),
    ),
  );
});

describe("VectorizeStyleIndex", () => {
  it("writes in batches of at most 1000 and reads through metadata pre-filters", async () => {
    const binding = index();
    const calls: number[] = [];
    const upsert = binding.upsert.bind(binding);
    binding.upsert = async (vectors) => {
      calls.push(vectors.length);
      return upsert(vectors);
    };
    const style = new VectorizeStyleIndex({ binding });
    await style.upsert(
      Array.from({ length: 2_345 }, (_, i) => entry({ embedding: direction(i % 100) })),
    );
    expect(calls).toEqual([1000, 1000, 345]);
    expect(binding.size).toBe(2_345);
  });

  it("cannot filter without its metadata indexes (created before the vectors)", async () => {
    const binding = new LocalVectorize({ dimensions: STYLE_EMBEDDING_DIMS });
    const style = new VectorizeStyleIndex({ binding });
    const e = entry();
    await style.upsert([e]);
    const query = { embedding: direction(3), viewer: { accountId: e.accountId }, limit: 5 };
    await expect(style.query(query)).rejects.toThrow(/no metadata index/);
    // An index created after the vector was written does not cover it.
    for (const [property, type] of Object.entries(STYLE_METADATA_INDEXES)) {
      binding.createMetadataIndex(property, type);
    }
    expect(await style.query(query)).toEqual([]);
    await style.upsert([e]);
    expect((await style.query(query)).map((h) => h.id)).toEqual([e.id]);
  });
});
