import { describe, expect, it } from "vitest";
import { STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import { direction, entry } from "../../storage/style-index/style-index.contract.ts";
import { LocalVectorize } from "../../storage/style-index/vectorize-stand-in.ts";
import { STYLE_METADATA_INDEXES } from "../../storage/style-index/vectorize-style-index.ts";
import { StyleShardsVar, styleIndexBinding, vectorizeStyleIndex } from "./vectorize-shards.ts";

// The Worker's Vectorize shards: STYLE_SHARDS and the STYLE_INDEX_n bindings, as env hands them.

const binding = () =>
  new LocalVectorize({ dimensions: STYLE_EMBEDDING_DIMS, metadataIndexes: STYLE_METADATA_INDEXES });

describe("Vectorize shards of the Worker", () => {
  it("reads STYLE_SHARDS and uses one bound index per shard, private ones first", async () => {
    const counts = StyleShardsVar.parse('{"private":2,"public":1}');
    const env = Object.fromEntries([0, 1, 2].map((i) => [styleIndexBinding(i), binding()]));
    const index = vectorizeStyleIndex(counts, env);
    const mine = entry({ embedding: direction(3) });
    const shared = entry({
      accountId: "acct_other",
      visibility: "public",
      embedding: direction(3, 0.2),
    });
    await index.upsert([mine, shared]);
    expect((env.STYLE_INDEX_2 as LocalVectorize).size).toBe(1);
    const hits = await index.query({
      embedding: direction(3),
      viewer: { accountId: mine.accountId },
      limit: 5,
    });
    expect(hits.map((h) => h.id)).toEqual([mine.id, shared.id]);
  });

  it("refuses a layout its bindings do not cover, and a malformed STYLE_SHARDS", () => {
    expect(() =>
      vectorizeStyleIndex({ private: 2, public: 1 }, { STYLE_INDEX_0: binding() }),
    ).toThrow(/STYLE_INDEX_1 is not bound/);
    for (const bad of [
      "{",
      '{"private":0,"public":1}',
      '{"private":1}',
      '{"private":1,"public":1,"x":1}',
    ]) {
      expect(StyleShardsVar.safeParse(bad).success).toBe(false);
    }
  });
});
