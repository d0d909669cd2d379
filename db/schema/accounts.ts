import { index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { newId } from "../../contracts/ids.ts";
import { createdAt, updatedAt } from "./_helpers.ts";
import { plans } from "./plans.ts";

export const accounts = pgTable(
  "accounts",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("account")),
    name: text("name").notNull(),
    email: text("email"),
    // A plan in use cannot be deleted: move its accounts first.
    planId: text("plan_id")
      .notNull()
      .references(() => plans.id, { onDelete: "restrict", onUpdate: "cascade" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Case-insensitive: one account per mailbox.
    uniqueIndex("accounts_email_idx").on(sql`lower(${t.email})`),
    index("accounts_plan_id_idx").on(t.planId),
  ],
);

export type Account = typeof accounts.$inferSelect;
export type NewAccount = typeof accounts.$inferInsert;
