import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import {
  activeFollowers,
  completeFollowers,
  failFollowers,
  findInFlightLeader,
  markFollowersRunning,
  moveFollowers,
  promoteFollower,
} from "../../db/queries/generation-dedup.ts";
import type { Transaction } from "../../db/client/index.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import { getActiveModelVersion } from "../../db/queries/models.ts";
import { getProjectForAccount } from "../../db/queries/projects.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import type { AccountLimiter } from "../limits/limiter-protocol.ts";
import type { GeoPoint } from "../routing/geo.ts";
import { settleGeneration } from "../limits/settle-generation.ts";
import { dispatchGeneration, type DispatchGenerationDeps } from "./dispatch-generation.ts";
import type { GenerationWebhooks } from "../webhooks/generation-webhooks.ts";
import type { GenerationNotifier } from "./generation-notifier.ts";
import { moderationPolicyOf } from "./moderation-policy.ts";

export interface FinishGenerationDeps extends DispatchGenerationDeps {
  limiter: AccountLimiter;
  notifier: GenerationNotifier;
  webhooks: GenerationWebhooks;
}

/**
 * Moves a generation to a terminal state with `transition` (a conditional update, given the
 * transaction to run in) and records its webhook message in the same transaction, so a crash
 * cannot commit one without the other; then sends the message and finishes the generation
 * (finishGeneration). Null, with nothing done, when the transition did not apply.
 */
export async function endGeneration(
  transition: (tx: Transaction) => Promise<GenerationRow | null>,
  callbackBase: string,
  deps: FinishGenerationDeps,
): Promise<GenerationRow | null> {
  // Nothing but `tx` inside: on PGlite another query would wait for this transaction to end.
  const ended = await deps.db.transaction(async (tx) => {
    const row = await transition(tx);
    if (!row) return null;
    return { row, delivery: await deps.webhooks.record(tx, row, callbackBase) };
  });
  if (!ended) return null;
  if (ended.delivery) deps.webhooks.send([ended.delivery]);
  await finishGeneration(ended.row, callbackBase, deps, { webhookRecorded: true });
  return ended.row;
}

/**
 * What follows a generation's move to a terminal state, wherever that happened (a region's event,
 * a failed dispatch, a cancel): its spend is settled or refunded and its concurrency slot freed;
 * identical requests that were merged into it end the same way (or, if it was canceled, one of
 * them takes over the GPU job); its webhook is recorded and sent, unless the transition recorded
 * it (endGeneration). Call it with the row as the transition returned it; repeated calls change
 * nothing.
 */
export async function finishGeneration(
  row: GenerationRow,
  callbackBase: string,
  deps: FinishGenerationDeps,
  opts: { webhookRecorded?: boolean } = {},
): Promise<void> {
  await settleGeneration(row, deps);
  if (!opts.webhookRecorded) await deps.webhooks.generationEnded(row, callbackBase);
  if (row.mergedIntoGenerationId === null && row.contentHash !== null) {
    await resolveFollowers(row, callbackBase, deps);
  }
}

/** The leader started running: so do the requests merged into it. */
export async function startFollowers(
  leader: GenerationRow,
  deps: FinishGenerationDeps,
): Promise<void> {
  if (leader.contentHash === null || leader.mergedIntoGenerationId !== null) return;
  const startedAt = leader.startedAt ?? new Date(deps.clock());
  const started = await markFollowersRunning(deps.db, leader, startedAt);
  for (const row of started) deps.notifier.notify(row.id);
}

/** Ends the leader's followers with its outcome; a canceled leader hands its work over instead. */
export async function resolveFollowers(
  leader: GenerationRow,
  callbackBase: string,
  deps: FinishGenerationDeps,
): Promise<void> {
  const at = new Date(deps.clock());
  let end: (tx: Transaction) => Promise<GenerationRow[]>;
  switch (leader.status) {
    case "succeeded":
      end = (tx) => completeFollowers(tx, leader, at);
      break;
    case "failed":
    case "blocked": {
      const status = leader.status;
      end = (tx) => failFollowers(tx, { ...leader, status }, at);
      break;
    }
    case "canceled":
      await handOver(leader, callbackBase, deps);
      return;
    default:
      return;
  }
  // The followers' terminal updates and their webhook messages commit together.
  const { ended, deliveries } = await deps.db.transaction(async (tx) => {
    const rows = await end(tx);
    const ids: string[] = [];
    for (const row of rows) {
      const id = await deps.webhooks.record(tx, row, callbackBase);
      if (id) ids.push(id);
    }
    return { ended: rows, deliveries: ids };
  });
  deps.webhooks.send(deliveries);
  for (const row of ended) {
    await settleGeneration(row, deps);
    deps.notifier.notify(row.id);
  }
}

/**
 * The leader was canceled, but its followers still want the image: the oldest becomes the leader
 * and gets its own GPU job, the others follow it. If another identical request has meanwhile
 * become the leader, they all follow that one.
 */
async function handOver(
  canceled: GenerationRow,
  callbackBase: string,
  deps: FinishGenerationDeps,
): Promise<void> {
  for (let tries = 0; tries < 8; tries += 1) {
    const [next] = await activeFollowers(deps.db, canceled.id);
    if (!next) return;
    const promoted = await promoteFollower(deps.db, next);
    if (promoted) {
      await moveFollowers(deps.db, canceled.id, promoted.id);
      await dispatchPromoted(promoted, canceled, callbackBase, deps);
      return;
    }
    const other = await findInFlightLeader(deps.db, canceled.accountId, canceled.contentHash!);
    if (other) {
      await moveFollowers(deps.db, canceled.id, other.id);
      // It may have ended before the move, and then would never look for these followers.
      const now = await getGeneration(deps.db, other.id);
      if (now && TERMINAL_STATUSES.has(now.status)) await resolveFollowers(now, callbackBase, deps);
      return;
    }
    // `next` left the queue meanwhile (canceled itself): try the following one.
  }
}

async function dispatchPromoted(
  row: GenerationRow,
  previous: GenerationRow,
  callbackBase: string,
  deps: FinishGenerationDeps,
): Promise<void> {
  const from = previous.region === null ? null : (deps.directory.get(previous.region) ?? null);
  await redispatchGeneration(row, { attempt: 1, from }, callbackBase, deps);
  deps.notifier.notify(row.id);
}

/**
 * Dispatches a queued generation again (a follower promoted to leader, a retryable failure at a
 * region), priced by its model version and moderated by its project's policy as the first time;
 * when no region takes it, it ends failed.
 */
export async function redispatchGeneration(
  row: GenerationRow,
  route: { attempt: number; from: GeoPoint | null; exclude?: ReadonlySet<string> },
  callbackBase: string,
  deps: FinishGenerationDeps,
): Promise<void> {
  const resolved = await getActiveModelVersion(deps.db, row.model, row.modelVersion);
  const project =
    row.projectId === null
      ? null
      : await getProjectForAccount(deps.db, row.accountId, row.projectId);
  const { row: after, result } = await dispatchGeneration(
    {
      row,
      ...route,
      callbackBase,
      gpuMsPerMegapixel: resolved?.version.gpuMsPerMegapixel ?? null,
      moderation: moderationPolicyOf(project),
    },
    deps,
  );
  if (result.kind !== "accepted") await finishGeneration(after, callbackBase, deps);
}
