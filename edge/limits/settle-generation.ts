import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import type { Database } from "../../db/client/index.ts";
import { closeReservation } from "../../db/queries/usage-ledger.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { recordUsageThresholds, type AccountWebhooks, type BudgetBook } from "./budgets.ts";

/** What a finished generation costs its account: its measured cost if it succeeded, else nothing. */
export const chargeOf = (row: GenerationRow): number =>
  row.status === "succeeded" ? (row.costActualMicrousd ?? 0) : 0;

/** Budgets and where their `usage.threshold` messages go; without them none is recorded. */
export interface UsageAlerts {
  budgets: BudgetBook;
  webhooks: AccountWebhooks;
}

/**
 * Closes a finished generation's spend in the ledger, in the transaction that ended it: `settle` at
 * its charge when it succeeded (0 for an answer that reused another's output, recording what that
 * saved), `refund` when it failed, was blocked or canceled. A charge that takes a budget past
 * 50/75/90/100% records the threshold and its `usage.threshold` message in the same transaction;
 * the deliveries to send after the commit are returned. Nothing happens for a generation still in
 * flight, one without a reservation, or one already closed, so repeating it is safe. The
 * account's limiter is told after the commit (edge/generations/transitions.ts).
 */
export async function closeSpend(
  tx: Database,
  row: GenerationRow,
  at: Date,
  alerts?: UsageAlerts,
): Promise<string[]> {
  if (!TERMINAL_STATUSES.has(row.status)) return [];
  const charged = chargeOf(row);
  const closed = await closeReservation(tx, row, {
    kind: row.status === "succeeded" ? "settle" : "refund",
    chargedMicrousd: charged,
    gpuMs: row.gpuMs,
    at,
    cached: row.cached,
  });
  if (!closed || charged === 0 || !alerts) return [];
  // A miss reads through `tx`: on PGlite another connection would wait for this transaction.
  const budgets = await alerts.budgets.for(row.accountId, row.projectId, tx);
  return recordUsageThresholds(tx, row, budgets, at, alerts.webhooks);
}
