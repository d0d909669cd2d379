import { sql } from "drizzle-orm";
import { boolean, check, index, pgTable, smallint, text, vector } from "drizzle-orm/pg-core";
import { oneOf, timestamptz } from "./_helpers.ts";
import { STYLE_EMBEDDING_DIMENSIONS, STYLE_VISIBILITIES } from "./style-embeddings.ts";

/**
 * Logical shards of the Postgres style index: each has an HNSW graph of its own (a partial index),
 * so a query of one shard walks only that shard's vectors. The shard layout
 * (storage/style-index/shard-layout.ts) decides which shards hold private and which public outputs;
 * a shard can also live in a database of its own (the same table there).
 */
export const STYLE_SHARD_SLOTS = 8;

/**
 * The Postgres backend of the style index (storage/style-index/pg-style-index.ts): derived from
 * style_embeddings and rebuildable from it, so it carries no foreign keys (a shard may live in
 * another database).
 */
export const styleIndex = pgTable(
  "style_index",
  {
    /** The generation id. */
    id: text("id").primaryKey(),
    shard: smallint("shard").notNull(),
    accountId: text("account_id").notNull(),
    projectId: text("project_id"),
    model: text("model").notNull(),
    modelVersion: text("model_version").notNull(),
    visibility: text("visibility", { enum: STYLE_VISIBILITIES }).notNull(),
    hidden: boolean("hidden").notNull(),
    generatedAt: timestamptz("generated_at").notNull(),
    embedding: vector("embedding", { dimensions: STYLE_EMBEDDING_DIMENSIONS }).notNull(),
  },
  (t) => [
    ...Array.from({ length: STYLE_SHARD_SLOTS }, (_, shard) =>
      index(`style_index_shard_${shard}_embedding_idx`)
        .using("hnsw", t.embedding.op("vector_cosine_ops"))
        .where(sql`${t.shard} = ${sql.raw(String(shard))}`),
    ),
    // A small tenant's own outputs: an exact scan of its rows beats walking a shard's graph.
    index("style_index_shard_account_id_idx").on(t.shard, t.accountId, t.generatedAt),
    check("style_index_visibility_check", oneOf(t.visibility, STYLE_VISIBILITIES)),
    check(
      "style_index_shard_check",
      sql`${t.shard} >= 0 and ${t.shard} < ${sql.raw(String(STYLE_SHARD_SLOTS))}`,
    ),
  ],
);

export type StyleIndexRow = typeof styleIndex.$inferSelect;
