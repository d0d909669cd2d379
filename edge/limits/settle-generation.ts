import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import type { Database } from "../../db/client/index.ts";
import { closeReservation } from "../../db/queries/usage-ledger.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";

/** What a finished generation costs its account: its measured cost if it succeeded, else nothing. */
export const chargeOf = (row: GenerationRow): number =>
  row.status === "succeeded" ? (row.costActualMicrousd ?? 0) : 0;

/**
 * Closes a finished generation's spend in the ledger, in the transaction that ended it: `settle` at
 * its charge when it succeeded (0 for an answer that reused another's output), `refund` when it
 * failed, was blocked or canceled. Nothing happens for a generation still in flight, one without a
 * reservation, or one already closed, so repeating it is safe. The account's limiter is told after
 * the commit (edge/generations/transitions.ts).
 */
export async function closeSpend(tx: Database, row: GenerationRow, at: Date): Promise<void> {
  if (!TERMINAL_STATUSES.has(row.status)) return;
  await closeReservation(tx, row, {
    kind: row.status === "succeeded" ? "settle" : "refund",
    chargedMicrousd: chargeOf(row),
    gpuMs: row.gpuMs,
    at,
  });
}
