import { check, index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { createdAt, oneOf, updatedAt } from "./_helpers.ts";
import { accounts } from "./accounts.ts";

export const PROJECT_VISIBILITIES = ["private", "public"] as const;
export type ProjectVisibility = (typeof PROJECT_VISIBILITIES)[number];

/**
 * Per-project moderation settings, read by prompt and output moderation. Kept open (jsonb) so the
 * moderation code owns its shape; `strictness` is the one knob every policy has.
 */
export type ModerationPolicy = {
  strictness?: "relaxed" | "standard" | "strict";
  [setting: string]: unknown;
};

export const projects = pgTable(
  "projects",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("project")),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    visibility: text("visibility", { enum: PROJECT_VISIBILITIES }).notNull().default("private"),
    moderationPolicy: jsonb("moderation_policy").$type<ModerationPolicy>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("projects_account_id_idx").on(t.accountId),
    check("projects_visibility_check", oneOf(t.visibility, PROJECT_VISIBILITIES)),
  ],
);

export type Project = typeof projects.$inferSelect;
export type NewProject = typeof projects.$inferInsert;
