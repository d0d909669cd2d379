import { z } from "zod";
import { Json } from "../entry/node-config.ts";
import { ShardLayout } from "../../storage/style-index/shard-layout.ts";
import { ShardedStyleIndex } from "../../storage/style-index/sharded-style-index.ts";
import type { StyleIndex } from "../../storage/style-index/style-index.ts";
import type { VectorizeBinding } from "../../storage/style-index/vectorize-binding.ts";
import { VectorizeStyleIndex } from "../../storage/style-index/vectorize-style-index.ts";

// The style index on Cloudflare Vectorize, one index per shard: `STYLE_SHARDS` (a var, JSON
// `{"private": n, "public": m}`) says how many, and the Worker binds them as STYLE_INDEX_0 ..
// STYLE_INDEX_{n+m-1} (private shards first). Without STYLE_SHARDS the Worker keeps the style
// index in Postgres (Neon, pgvector). docs/operations.md: creating the indexes, adding shards.

export const StyleShardsVar = Json.pipe(
  z.strictObject({
    private: z.number().int().min(1).max(64),
    public: z.number().int().min(0).max(64),
  }),
);

export const styleIndexBinding = (shard: number) => `STYLE_INDEX_${shard}`;

/** The sharded Vectorize style index for `counts`, its indexes taken from `env`'s bindings. */
export function vectorizeStyleIndex(
  counts: z.infer<typeof StyleShardsVar>,
  env: Record<string, unknown>,
): StyleIndex {
  const layout = new ShardLayout(counts);
  const shards = Array.from({ length: layout.size }, (_, shard) => {
    const binding = env[styleIndexBinding(shard)] as VectorizeBinding | undefined;
    if (!binding || typeof binding.query !== "function") {
      throw new Error(
        `STYLE_SHARDS asks for ${layout.size} Vectorize indexes, but ${styleIndexBinding(shard)} is not bound`,
      );
    }
    return new VectorizeStyleIndex({
      binding,
      holds: shard < counts.private ? "private" : "public",
    });
  });
  return new ShardedStyleIndex(layout, shards);
}
