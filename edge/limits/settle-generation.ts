import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import { closeReservation } from "../../db/queries/usage-ledger.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { releaseAdmission, type AdmissionDeps } from "./admission.ts";

/**
 * Closes a finished generation's spend: `settle` at its measured cost when it succeeded (0 for an
 * answer that reused another's output), `refund` when it failed, was blocked or canceled. Then
 * frees its concurrency slot. Safe to call more than once: only the call that writes the ledger
 * row tells the limiter.
 */
export async function settleGeneration(row: GenerationRow, deps: AdmissionDeps): Promise<void> {
  if (!TERMINAL_STATUSES.has(row.status)) return;
  const succeeded = row.status === "succeeded";
  const charged = succeeded ? (row.costActualMicrousd ?? 0) : 0;
  const closed = await closeReservation(deps.db, row, {
    kind: succeeded ? "settle" : "refund",
    chargedMicrousd: charged,
    gpuMs: row.gpuMs,
    at: new Date(deps.clock()),
  });
  if (closed) await releaseAdmission(row.accountId, row.id, charged, deps);
}
