import { sql } from "drizzle-orm";
import { boolean, check, index, pgTable, real, text, vector } from "drizzle-orm/pg-core";
import { STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import { createdAt, oneOf, timestamptz, updatedAt } from "./_helpers.ts";
import { accounts } from "./accounts.ts";
import { generations } from "./generations.ts";

/** Length of the style embedding (contracts/style.ts). */
export const STYLE_EMBEDDING_DIMENSIONS = STYLE_EMBEDDING_DIMS;

export const STYLE_VISIBILITIES = ["private", "public"] as const;
export type StyleVisibility = (typeof STYLE_VISIBILITIES)[number];

/**
 * The style of every published output, as recorded when it succeeded: its embedding (computed at
 * the region from the pixels), what search filters on (owner, project, model, visibility, hidden,
 * date) and, from models with a style output, the vector it was drawn with (what a style reference
 * blends in). The source of truth every style index (style_index, Vectorize) is built from: a row
 * whose `indexed_at` is null has changes the index has not taken yet.
 */
export const styleEmbeddings = pgTable(
  "style_embeddings",
  {
    generationId: text("generation_id")
      .primaryKey()
      .references(() => generations.id, { onDelete: "cascade" }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    projectId: text("project_id"),
    model: text("model").notNull(),
    modelVersion: text("model_version").notNull(),
    /** The embedding's recipe (contracts/style.ts): only vectors of one descriptor compare. */
    descriptor: text("descriptor").notNull(),
    embedding: vector("embedding", { dimensions: STYLE_EMBEDDING_DIMENSIONS }).notNull(),
    /** The model's style space and the vector the output was drawn with; null without one. */
    styleSpace: text("style_space"),
    styleVector: real("style_vector").array(),
    /** `public` outputs (of public projects) are searchable by every account. */
    visibility: text("visibility", { enum: STYLE_VISIBILITIES }).notNull().default("private"),
    /** Hidden outputs (reported, removed) are never returned by search. */
    hidden: boolean("hidden").notNull().default(false),
    /** When the generation was created: search's date filters. */
    generatedAt: timestamptz("generated_at").notNull(),
    /** When the style index last took this row's current state; null: not yet (the outbox). */
    indexedAt: timestamptz("indexed_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("style_embeddings_account_id_idx").on(t.accountId),
    index("style_embeddings_unindexed_idx")
      .on(t.updatedAt)
      .where(sql`${t.indexedAt} is null`),
    check("style_embeddings_visibility_check", oneOf(t.visibility, STYLE_VISIBILITIES)),
  ],
);

export type StyleEmbedding = typeof styleEmbeddings.$inferSelect;
export type NewStyleEmbedding = typeof styleEmbeddings.$inferInsert;
