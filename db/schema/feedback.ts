import { sql } from "drizzle-orm";
import { boolean, check, index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import {
  FEEDBACK_COMMENT_MAX_CHARS,
  FEEDBACK_KINDS,
  FEEDBACK_REASONS,
} from "../../contracts/feedback.ts";
import { newId } from "../../contracts/ids.ts";
import { createdAt, oneOf, updatedAt } from "./_helpers.ts";
import { accounts } from "./accounts.ts";
import { apiKeys } from "./api-keys.ts";
import { generations } from "./generations.ts";

export { FEEDBACK_KINDS, FEEDBACK_REASONS, type FeedbackKind } from "../../contracts/feedback.ts";

/**
 * One vote per account and generation (like, dislike or report): a second vote replaces the first,
 * a withdrawal deletes the row. Refines are not rows here: a refine is a child generation
 * (`generations.parent_generation_id`). The facts fraud controls need are frozen at vote time:
 * whether the voter owns the output, voted with a test-mode key, and had fetched the output first.
 */
export const feedback = pgTable(
  "feedback",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("feedback")),
    generationId: text("generation_id")
      .notNull()
      .references(() => generations.id, { onDelete: "cascade" }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    /** The key the vote came with (null once that key is deleted). */
    apiKeyId: text("api_key_id").references(() => apiKeys.id, { onDelete: "set null" }),
    kind: text("kind", { enum: FEEDBACK_KINDS }).notNull(),
    reason: text("reason", { enum: FEEDBACK_REASONS }),
    comment: text("comment"),
    /** The voter owns the generation: own likes never enter training data. */
    own: boolean("own").notNull(),
    /** Cast with a test-mode key: counted on the generation, never in training data or reviews. */
    testMode: boolean("test_mode").notNull(),
    /** The voter had downloaded the output's bytes before this vote (asset_fetches). */
    fetched: boolean("fetched").notNull(),
    createdAt: createdAt(),
    /** When the current kind was cast (a change of kind moves it; a repeat does not). */
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("feedback_account_id_generation_id_idx").on(t.accountId, t.generationId),
    index("feedback_generation_id_kind_idx").on(t.generationId, t.kind),
    // GET /v1/feedback pages newest first; the fraud rule reads an account's recent votes.
    index("feedback_account_id_updated_at_idx").on(
      t.accountId,
      t.updatedAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index("feedback_updated_at_idx").on(t.updatedAt),
    check("feedback_kind_check", oneOf(t.kind, FEEDBACK_KINDS)),
    check(
      "feedback_reason_check",
      sql`${t.reason} is null or ${oneOf(t.reason, FEEDBACK_REASONS)}`,
    ),
    check(
      "feedback_comment_length_check",
      sql`char_length(${t.comment}) <= ${sql.raw(String(FEEDBACK_COMMENT_MAX_CHARS))}`,
    ),
  ],
);

export type Feedback = typeof feedback.$inferSelect;
export type NewFeedback = typeof feedback.$inferInsert;
