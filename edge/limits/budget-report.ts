import type { Budget as BudgetJson } from "../../contracts/projects.ts";
import type { Database } from "../../db/client/index.ts";
import { listBudgetAlerts } from "../../db/queries/budgets.ts";
import { readMonthSpend } from "../../db/queries/usage.ts";
import type { Budget } from "../../db/schema/budgets.ts";
import { microusdToUsd } from "../generations/pricing.ts";
import { monthOf } from "./account-limits.ts";
import { monthStart } from "./budgets.ts";

/** Budgets as the API shows them: this month's spend against each, and the thresholds crossed. */
export async function budgetReports(
  db: Database,
  budgets: readonly Budget[],
  now: number,
): Promise<BudgetJson[]> {
  const month = monthOf(now);
  const alerts = await listBudgetAlerts(
    db,
    budgets.map((b) => b.id),
    month,
  );
  return Promise.all(
    budgets.map(async (budget) => {
      const spend = await readMonthSpend(db, {
        accountId: budget.accountId,
        projectId: budget.projectId,
        since: monthStart(now),
      });
      const spent = budget.projectId === null ? spend.accountMicrousd : spend.projectMicrousd;
      return {
        object: "budget" as const,
        id: budget.id,
        project: budget.projectId,
        amount_usd: microusdToUsd(budget.amountMicrousd),
        rule: budget.rule,
        webhook_url: budget.webhookUrl,
        month,
        spent_usd: microusdToUsd(spent),
        used_percent: Math.round((spent * 10_000) / budget.amountMicrousd) / 100,
        thresholds: alerts
          .filter((a) => a.budgetId === budget.id)
          .map((a) => ({ percent: a.percent, crossed_at: a.createdAt.toISOString() })),
      };
    }),
  );
}
