import { budgetsFor, recordBudgetAlerts } from "../../db/queries/budgets.ts";
import { readMonthSpend } from "../../db/queries/usage.ts";
import type { Database, Transaction } from "../../db/client/index.ts";
import { BUDGET_THRESHOLDS, type Budget } from "../../db/schema/budgets.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { ApiError } from "../errors/index.ts";
import { RefreshAhead } from "../lib/refresh-ahead.ts";
import { microusdToUsd } from "../generations/pricing.ts";
import { monthOf } from "./account-limits.ts";

// Budgets an account sets for itself (per account, per project): the rule at 100% applies at
// submit (priceRequest), the alerts at 50/75/90/100% are recorded where spend settles.

export const monthStart = (ms: number) => new Date(`${monthOf(ms)}-01T00:00:00Z`);

/** The budgets a generation counts against, as this isolate last read them (`ttlMs` at most). */
export class BudgetBook {
  readonly #db: Database;
  readonly #read: RefreshAhead<string, Budget[]>;

  constructor(opts: {
    db: Database;
    clock: () => number;
    ttlMs: number;
    /** Re-reads past half their life run here (waitUntil), off the requests' path. */
    background?: (work: Promise<unknown>) => void;
  }) {
    this.#db = opts.db;
    this.#read = new RefreshAhead({
      load: (key: string) => {
        const [accountId, projectId] = key.split("/") as [string, string];
        return budgetsFor(this.#db, { accountId, projectId: projectId || null });
      },
      clock: opts.clock,
      ttlMs: opts.ttlMs,
      background: opts.background ?? ((work) => void work),
    });
  }

  /** `db`: where a miss is read (the caller's transaction); default the book's database. */
  for(accountId: string, projectId: string | null, db: Database = this.#db): Promise<Budget[]> {
    const key = `${accountId}/${projectId ?? ""}`;
    // Inside a transaction a miss reads through it (PGlite's one connection is the transaction's).
    if (db !== this.#db) return this.#read.peek(key) ?? budgetsFor(db, { accountId, projectId });
    return this.#read.get(key);
  }

  /** After a budget changed in this isolate: the next lookups read it at once. */
  invalidate(): void {
    this.#read.invalidate();
  }
}

export interface MonthSpend {
  accountMicrousd: number;
  projectMicrousd: number;
}

const spentOn = (budget: Budget, spend: MonthSpend) =>
  budget.projectId === null ? spend.accountMicrousd : spend.projectMicrousd;

/**
 * Which budgets `estimate` more would take past 100%: `stop` ones refuse the request, `relax`
 * ones move it to the relax lane (stop wins when both apply). Pure.
 */
export function budgetVerdict(
  budgets: readonly Budget[],
  spend: MonthSpend,
  estimateMicrousd: number,
): { stop: Budget | null; relax: Budget | null } {
  let stop: Budget | null = null;
  let relax: Budget | null = null;
  for (const budget of budgets) {
    if (spentOn(budget, spend) + estimateMicrousd <= budget.amountMicrousd) continue;
    if (budget.rule === "stop") stop ??= budget;
    else relax ??= budget;
  }
  return { stop, relax };
}

/** The thresholds (percent) `spent` has reached of `amount`. Pure. */
export const crossedThresholds = (spentMicrousd: number, amountMicrousd: number): number[] =>
  BUDGET_THRESHOLDS.filter((p) => spentMicrousd * 100 >= amountMicrousd * p);

export function budgetExceeded(budget: Budget, spend: MonthSpend): ApiError {
  const what = budget.projectId === null ? "the account's" : `project ${budget.projectId}'s`;
  return new ApiError({
    type: "quota_exceeded_error",
    code: "budget_exceeded",
    message: `this request would take ${what} monthly budget of $${microusdToUsd(budget.amountMicrousd)} past 100% (spent or reserved: $${microusdToUsd(spentOn(budget, spend))}); its rule is to stop`,
  });
}

/** What recording a usage alert needs from webhooks (WebhookDispatcher implements it). */
export interface AccountWebhooks {
  recordAccountEvent(
    tx: Database | Transaction,
    event: { accountId: string; event: "usage.threshold"; url: string; body: string },
  ): Promise<string | null>;
  send(deliveryIds: readonly string[]): void;
}

export interface UsageAlertsDeps {
  budgets: BudgetBook;
  webhooks: AccountWebhooks;
}

/**
 * After a generation's charge is in the ledger (in the same transaction): the thresholds each of
 * its budgets crossed this month are recorded once, each with a signed `usage.threshold` message
 * when the budget has a webhook URL. Returns the deliveries to send after the commit.
 */
export async function recordUsageThresholds(
  tx: Database | Transaction,
  row: Pick<GenerationRow, "accountId" | "projectId">,
  budgets: readonly Budget[],
  at: Date,
  webhooks: AccountWebhooks,
): Promise<string[]> {
  if (budgets.length === 0) return [];
  const month = monthOf(at.getTime());
  const spend = await readMonthSpend(tx, {
    accountId: row.accountId,
    projectId: row.projectId,
    since: monthStart(at.getTime()),
  });
  const deliveries: string[] = [];
  for (const budget of budgets) {
    const spent = spentOn(budget, spend);
    const crossed = crossedThresholds(spent, budget.amountMicrousd);
    const fresh = await recordBudgetAlerts(tx, budget.id, month, crossed, spent, at);
    if (!budget.webhookUrl) continue;
    for (const percent of fresh) {
      const body = JSON.stringify(thresholdPayload(budget, { percent, month, spent, at }));
      const id = await webhooks.recordAccountEvent(tx, {
        accountId: budget.accountId,
        event: "usage.threshold",
        url: budget.webhookUrl,
        body,
      });
      if (id) deliveries.push(id);
    }
  }
  return deliveries;
}

/** The `usage.threshold` message (contracts/webhooks.ts UsageThresholdPayload). Pure. */
export function thresholdPayload(
  budget: Budget,
  crossing: { percent: number; month: string; spent: number; at: Date },
) {
  return {
    type: "usage.threshold" as const,
    timestamp: crossing.at.toISOString(),
    data: {
      object: "usage_threshold" as const,
      budget: budget.id,
      project: budget.projectId,
      month: crossing.month,
      percent: crossing.percent,
      amount_usd: microusdToUsd(budget.amountMicrousd),
      spent_usd: microusdToUsd(crossing.spent),
      rule: budget.rule,
      /** At 100% the rule applies to new requests until the month turns. */
      rule_applies: crossing.percent >= 100,
    },
  };
}
