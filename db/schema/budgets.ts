import { sql } from "drizzle-orm";
import { check, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { createdAt, microusd, oneOf, updatedAt } from "./_helpers.ts";
import { accounts } from "./accounts.ts";
import { projects } from "./projects.ts";

/** What happens to new requests once a budget's month is spent: refused (402) or relax lane only. */
export const BUDGET_RULES = ["stop", "relax"] as const;
export type BudgetRule = (typeof BUDGET_RULES)[number];

/** Percentages of a budget at which `usage.threshold` is sent, once each per UTC month. */
export const BUDGET_THRESHOLDS = [50, 75, 90, 100] as const;

/**
 * A monthly spending budget the account sets for itself (below its plan's cap): one for the whole
 * account (project null) and at most one per project. Live spend only: test keys never count.
 */
export const budgets = pgTable(
  "budgets",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("budget")),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    projectId: text("project_id").references(() => projects.id, { onDelete: "cascade" }),
    amountMicrousd: microusd("amount_microusd").notNull(),
    rule: text("rule", { enum: BUDGET_RULES }).notNull().default("stop"),
    /** Where `usage.threshold` events are POSTed (signed like every webhook); null: none sent. */
    webhookUrl: text("webhook_url"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("budgets_account_id_idx")
      .on(t.accountId)
      .where(sql`${t.projectId} is null`),
    uniqueIndex("budgets_project_id_idx")
      .on(t.projectId)
      .where(sql`${t.projectId} is not null`),
    check("budgets_amount_microusd_check", sql`${t.amountMicrousd} > 0`),
    check("budgets_rule_check", oneOf(t.rule, BUDGET_RULES)),
  ],
);

/** One row per threshold a budget crossed in a month: the key that sends each alert only once. */
export const budgetAlerts = pgTable(
  "budget_alerts",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("budgetAlert")),
    budgetId: text("budget_id")
      .notNull()
      .references(() => budgets.id, { onDelete: "cascade" }),
    /** UTC month, "2026-11". */
    month: text("month").notNull(),
    percent: integer("percent").notNull(),
    /** The month's spend when the threshold was crossed. */
    spentMicrousd: microusd("spent_microusd").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("budget_alerts_budget_id_month_percent_idx").on(t.budgetId, t.month, t.percent),
    check("budget_alerts_percent_check", sql`${t.percent} between 1 and 100`),
  ],
);

export type Budget = typeof budgets.$inferSelect;
export type NewBudget = typeof budgets.$inferInsert;
export type BudgetAlert = typeof budgetAlerts.$inferSelect;
