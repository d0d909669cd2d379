import { check, index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { createdAt, oneOf } from "./_helpers.ts";
import { accounts } from "./accounts.ts";
import { generations } from "./generations.ts";
import { projects } from "./projects.ts";

/**
 * `review`: an output hidden by reports (`flag`), approved by a reviewer (`allow`) or removed
 * (`block`); `matched` holds who decided and the weighted report total.
 */
export const MODERATION_STAGES = ["prompt", "output", "review"] as const;
export type ModerationStage = (typeof MODERATION_STAGES)[number];
export const MODERATION_ACTIONS = ["allow", "flag", "block"] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

/** Audit trail of moderation decisions (every block and flag; allows when sampled). */
export const moderationEvents = pgTable(
  "moderation_events",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("moderation")),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    projectId: text("project_id").references(() => projects.id, { onDelete: "set null" }),
    /** Null when a prompt was refused before any generation row existed. */
    generationId: text("generation_id").references(() => generations.id, {
      onDelete: "set null",
    }),
    stage: text("stage", { enum: MODERATION_STAGES }).notNull(),
    categories: text("categories").array().notNull(),
    scores: jsonb("scores").$type<Record<string, number>>().notNull().default({}),
    /** What matched (normalised terms, rule ids), for reviewing false positives. */
    matched: jsonb("matched").$type<unknown[]>().notNull().default([]),
    action: text("action", { enum: MODERATION_ACTIONS }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("moderation_events_account_id_created_at_idx").on(t.accountId, t.createdAt),
    index("moderation_events_generation_id_idx").on(t.generationId),
    check("moderation_events_stage_check", oneOf(t.stage, MODERATION_STAGES)),
    check("moderation_events_action_check", oneOf(t.action, MODERATION_ACTIONS)),
  ],
);

export type ModerationEvent = typeof moderationEvents.$inferSelect;
export type NewModerationEvent = typeof moderationEvents.$inferInsert;
