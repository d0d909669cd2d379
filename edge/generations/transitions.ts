import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import type { Transaction } from "../../db/client/index.ts";
import { insertFinishedGeneration } from "../../db/queries/generation-accept.ts";
import { completeFollowers, failFollowers } from "../../db/queries/generation-dedup.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { releaseAdmission } from "../limits/admission.ts";
import { chargeOf, closeSpend } from "../limits/settle-generation.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";

// The one owner of a generation's terminal transitions. Whatever ends a generation (a region's
// event, a failed dispatch, a cancel, a lost region, an answer from the dedup cache, a blocked
// prompt, the followers of a leader) hands its conditional write to `endGenerations`, which commits
// with it, in the same transaction, each ended row's ledger closing and webhook message; then the
// work that follows a commit happens here and only here: messages sent, waiters woken, slots freed,
// followers resolved.

/**
 * A write that ends generations: a conditional update (or an insert of a finished row) through `tx`
 * only, returning the rows it made terminal; none when the transition did not apply.
 */
export type TerminalWrite = (tx: Transaction) => Promise<readonly GenerationRow[]>;

/**
 * Runs `write` and, in the same transaction, closes each ended row's spend and records its webhook
 * message, so a crash cannot commit one without the others. After the commit: `afterEnded`.
 * Returns the rows that ended (empty when the transition did not apply).
 */
export async function endGenerations(
  write: TerminalWrite,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<GenerationRow[]> {
  const at = new Date(deps.clock());
  // Nothing but `tx` inside: on PGlite another query would wait for this transaction to end.
  const { rows, deliveries } = await deps.db.transaction(async (tx) => {
    const rows = (await write(tx)).filter((row) => TERMINAL_STATUSES.has(row.status));
    const deliveries: string[] = [];
    for (const row of rows) {
      deliveries.push(...(await closeSpend(tx, row, at, deps.usageAlerts)));
      const delivery = await deps.webhooks.record(tx, row, callbackBase);
      if (delivery) deliveries.push(delivery);
    }
    return { rows, deliveries };
  });
  deps.webhooks.send(deliveries);
  for (const row of rows) await afterEnded(row, callbackBase, deps);
  return rows;
}

/** endGenerations for a write that ends at most one generation; null when it did not apply. */
export async function endGeneration(
  write: (tx: Transaction) => Promise<GenerationRow | null>,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<GenerationRow | null> {
  const [row] = await endGenerations(
    async (tx) => {
      const ended = await write(tx);
      return ended ? [ended] : [];
    },
    callbackBase,
    deps,
  );
  return row ?? null;
}

/**
 * Writes a generation that is finished as it is written (an answer from the dedup cache; `row` as
 * it will be stored, generationAsWritten): the row, its `cached` ledger row and its webhook message
 * in ONE statement (one round trip, atomic without a transaction): what endGenerations commits
 * for it. Then what follows a terminal transition, less what such a row cannot have: a hold to
 * release (it took none) or followers (nothing merges into work that was never in flight). Null
 * when the row conflicted with another (an Idempotency-Key used meanwhile): nothing was written.
 */
export async function insertEnded(
  row: GenerationRow,
  savedMicrousd: number,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<GenerationRow | null> {
  const webhook = await deps.webhooks.draft(row, callbackBase);
  const written = await insertFinishedGeneration(deps.db, row, { savedMicrousd, webhook });
  if (!written) return null;
  if (written.deliveryId !== null) deps.webhooks.send([written.deliveryId]);
  deps.notifier.notify(written.generation.id);
  return written.generation;
}

/**
 * Completes, for a generation already terminal, whatever its transition left undone (a process that
 * stopped between the commit and the release, a repeated event): every step is idempotent, so
 * nothing happens twice.
 */
export function finishEnded(
  row: GenerationRow,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<GenerationRow[]> {
  return endGenerations(async () => [row], callbackBase, deps);
}

/** What follows a committed terminal transition, for one row. Safe to repeat. */
async function afterEnded(
  row: GenerationRow,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<void> {
  deps.notifier.notify(row.id);
  // The limiter forgets a hold it no longer has, so a repeated release changes nothing.
  await releaseAdmission(row.accountId, row.id, chargeOf(row), deps);
  const followers = followersEnding(row, new Date(deps.clock()));
  if (followers) await endGenerations(followers, callbackBase, deps);
}

/**
 * Identical requests merged into a leader (edge/dedup) end as it did: with its output when it
 * succeeded, its error when it failed or was blocked. A canceled leader's followers still want the
 * image: one of them takes over the job instead (followers.ts, handOverFollowers). Null: nothing
 * to end here.
 */
function followersEnding(leader: GenerationRow, at: Date): TerminalWrite | null {
  if (leader.mergedIntoGenerationId !== null || leader.contentHash === null) return null;
  switch (leader.status) {
    case "succeeded":
      return (tx) => completeFollowers(tx, leader, at);
    case "failed":
    case "blocked": {
      const status = leader.status;
      return (tx) => failFollowers(tx, { ...leader, status }, at);
    }
    default:
      return null;
  }
}
