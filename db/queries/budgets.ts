import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Database } from "../client/types.ts";
import {
  budgetAlerts,
  budgets,
  type Budget,
  type BudgetAlert,
  type BudgetRule,
} from "../schema/budgets.ts";

export interface BudgetInput {
  accountId: string;
  /** null: the account's own budget. */
  projectId: string | null;
  amountMicrousd: number;
  rule: BudgetRule;
  webhookUrl: string | null;
}

/** Sets the account's (or one project's) budget, replacing the one it had. */
export async function upsertBudget(db: Database, input: BudgetInput): Promise<Budget> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(budgets).where(scopeOf(input));
    const values = {
      amountMicrousd: input.amountMicrousd,
      rule: input.rule,
      webhookUrl: input.webhookUrl,
    };
    const [row] = existing
      ? await tx.update(budgets).set(values).where(eq(budgets.id, existing.id)).returning()
      : await tx
          .insert(budgets)
          .values({ accountId: input.accountId, projectId: input.projectId, ...values })
          .returning();
    if (!row) throw new Error("budget write returned no row");
    return row;
  });
}

const scopeOf = (s: { accountId: string; projectId: string | null }) =>
  s.projectId === null
    ? and(eq(budgets.accountId, s.accountId), isNull(budgets.projectId))
    : eq(budgets.projectId, s.projectId);

/** Removes the account's (or a project's) budget; true when there was one. */
export async function deleteBudget(
  db: Database,
  scope: { accountId: string; projectId: string | null },
): Promise<boolean> {
  const removed = await db.delete(budgets).where(scopeOf(scope)).returning({ id: budgets.id });
  return removed.length > 0;
}

/** The account's budget and those of the projects it owns. */
export async function listBudgets(db: Database, accountId: string): Promise<Budget[]> {
  return db
    .select()
    .from(budgets)
    .where(eq(budgets.accountId, accountId))
    .orderBy(sql`${budgets.projectId} nulls first`, budgets.id);
}

/**
 * The budgets a generation of `accountId` under `projectId` counts against: the account's own,
 * and the project's (set by the project's owner, whoever generates under it).
 */
export async function budgetsFor(
  db: Database,
  { accountId, projectId }: { accountId: string; projectId: string | null },
): Promise<Budget[]> {
  const own = and(eq(budgets.accountId, accountId), isNull(budgets.projectId));
  return db
    .select()
    .from(budgets)
    .where(projectId === null ? own : or(own, eq(budgets.projectId, projectId)));
}

/**
 * Records the thresholds `percents` of a budget as crossed in `month`; returns those that were
 * not recorded before (each threshold is crossed once per month, whoever gets there first).
 */
export async function recordBudgetAlerts(
  db: Database,
  budgetId: string,
  month: string,
  percents: readonly number[],
  spentMicrousd: number,
  at: Date,
): Promise<number[]> {
  if (percents.length === 0) return [];
  const rows = await db
    .insert(budgetAlerts)
    .values(percents.map((percent) => ({ budgetId, month, percent, spentMicrousd, createdAt: at })))
    .onConflictDoNothing()
    .returning({ percent: budgetAlerts.percent });
  return rows.map((r) => r.percent).sort((a, b) => a - b);
}

/** The thresholds the budgets crossed in `month`, oldest first. */
export async function listBudgetAlerts(
  db: Database,
  budgetIds: readonly string[],
  month: string,
): Promise<BudgetAlert[]> {
  if (budgetIds.length === 0) return [];
  return db
    .select()
    .from(budgetAlerts)
    .where(and(inArray(budgetAlerts.budgetId, [...budgetIds]), eq(budgetAlerts.month, month)))
    .orderBy(budgetAlerts.percent);
}

/** The budgets of these projects (whoever owns them). */
export async function listProjectBudgets(
  db: Database,
  projectIds: readonly string[],
): Promise<Budget[]> {
  if (projectIds.length === 0) return [];
  return db
    .select()
    .from(budgets)
    .where(inArray(budgets.projectId, [...projectIds]));
}
