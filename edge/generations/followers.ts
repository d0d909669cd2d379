import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import {
  activeFollowers,
  findInFlightLeader,
  markFollowersRunning,
  moveFollowers,
  promoteFollower,
} from "../../db/queries/generation-dedup.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { dispatchAgain } from "./redispatch.ts";
import { finishEnded } from "./transitions.ts";

// Identical requests merged into a leader in flight (edge/dedup) follow its progress. Their
// terminal transitions are the leader's (transitions.ts); these are the other moves.

/** The leader started running: so do the requests merged into it. */
export async function startFollowers(
  leader: GenerationRow,
  deps: Pick<GenerationFlowDeps, "db" | "clock" | "notifier">,
): Promise<void> {
  if (leader.contentHash === null || leader.mergedIntoGenerationId !== null) return;
  const startedAt = leader.startedAt ?? new Date(deps.clock());
  const started = await markFollowersRunning(deps.db, leader, startedAt);
  for (const row of started) deps.notifier.notify(row.id);
}

/**
 * The leader was canceled, but its followers still want the image: the oldest becomes the leader
 * and gets its own GPU job, the others follow it. If another identical request has meanwhile
 * become the leader, they all follow that one.
 */
export async function handOverFollowers(
  canceled: GenerationRow,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<void> {
  if (canceled.contentHash === null) return;
  for (let tries = 0; tries < 8; tries += 1) {
    const [next] = await activeFollowers(deps.db, canceled.id);
    if (!next) return;
    const promoted = await promoteFollower(deps.db, next);
    if (promoted) {
      await moveFollowers(deps.db, canceled.id, promoted.id);
      const from = canceled.region === null ? null : (deps.directory.get(canceled.region) ?? null);
      await dispatchAgain(promoted, { from }, callbackBase, deps);
      return;
    }
    const other = await findInFlightLeader(deps.db, canceled.accountId, canceled.contentHash);
    if (other) {
      await moveFollowers(deps.db, canceled.id, other.id);
      // It may have ended before the move, and then would never look for these followers.
      const now = await getGeneration(deps.db, other.id);
      if (now?.status === "canceled") await handOverFollowers(now, callbackBase, deps);
      else if (now && TERMINAL_STATUSES.has(now.status)) await finishEnded(now, callbackBase, deps);
      return;
    }
    // `next` left the queue meanwhile (canceled itself): try the following one.
  }
}
