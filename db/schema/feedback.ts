import { check, index, pgTable, text } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { createdAt, oneOf } from "./_helpers.ts";
import { accounts } from "./accounts.ts";
import { generations } from "./generations.ts";

export const FEEDBACK_TYPES = ["like", "report", "refine"] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

/** Likes, reports and refinements: the signal that curates the style-head training set. */
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
    type: text("type", { enum: FEEDBACK_TYPES }).notNull(),
    reason: text("reason"),
    /** For `refine`: the new prompt. */
    prompt: text("prompt"),
    refinedGenerationId: text("refined_generation_id").references(() => generations.id, {
      onDelete: "set null",
    }),
    createdAt: createdAt(),
  },
  (t) => [
    index("feedback_generation_id_idx").on(t.generationId),
    index("feedback_account_id_idx").on(t.accountId),
    index("feedback_type_created_at_idx").on(t.type, t.createdAt),
    check("feedback_type_check", oneOf(t.type, FEEDBACK_TYPES)),
  ],
);

export type Feedback = typeof feedback.$inferSelect;
export type NewFeedback = typeof feedback.$inferInsert;
