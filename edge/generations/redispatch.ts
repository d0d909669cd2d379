import type { AttemptEndReason, GenerationAttempt } from "../../contracts/api.ts";
import { countRedispatch, requeueLostAttempt } from "../../db/queries/generation-leases.ts";
import { failGeneration } from "../../db/queries/generations.ts";
import { getActiveModelVersion } from "../../db/queries/models.ts";
import { getProject } from "../../db/queries/projects.ts";
import type { GenerationErrorBody, GenerationRow } from "../../db/schema/generations.ts";
import { cancelRegionJob } from "../routing/cancel-job.ts";
import type { DispatchResult } from "../routing/dispatch.ts";
import type { GeoPoint } from "../routing/geo.ts";
import { dispatchGeneration } from "./dispatch-generation.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { endedAttempt, nextAttempt } from "./leases.ts";
import { moderationPolicyOf } from "./moderation-policy.ts";
import { endGeneration } from "./transitions.ts";

// Taking a job back from a region that lost it, and sending the generation elsewhere: the one path
// for every way a dispatch is given up (region down, job forgotten, lease expired, handed back).

/**
 * - redispatched: another region took the job;
 * - waiting: no region could take it now; the sweep offers it again (edge/generations/leases.ts);
 * - failed: that was its last attempt (or a region refused it): it ended `failed`, refunded;
 * - moved_on: the row had changed already (an outcome, a cancel, another sweep): nothing done.
 */
export type LossOutcome = "redispatched" | "waiting" | "failed" | "moved_on";

/**
 * Gives up the generation's current dispatch for `reason` and dispatches it again (nearest to the
 * lost region, that region excluded this once), or, after its last attempt, fails it `region_lost`.
 * Conditional on the dispatch the caller saw, so concurrent callers act once.
 */
export async function loseAttempt(
  row: GenerationRow,
  reason: AttemptEndReason,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<LossOutcome> {
  const { jobId, region } = row;
  if (jobId === null || region === null) return "moved_on";
  const at = new Date(deps.clock());
  const attempt = endedAttempt(row, at, reason);
  if (nextAttempt(row) >= deps.maxDispatchAttempts) {
    const error = regionLost([...row.attempts, attempt]);
    const failed = await endGeneration(
      (tx) => failGeneration(tx, row.id, { error, at, expectJobId: jobId, attempt }),
      callbackBase,
      deps,
    );
    if (!failed) return "moved_on";
    await afterLoss(row, attempt, "failed", deps);
    return "failed";
  }
  const requeued = await requeueLostAttempt(deps.db, row.id, {
    jobId,
    attempt,
    dueAt: new Date(at.getTime() + deps.leases.dispatchLeaseMs),
  });
  if (!requeued) return "moved_on";
  deps.notifier.notify(row.id);
  const from = deps.directory.get(region) ?? null;
  const { row: after, result } = await dispatchAgain(
    requeued,
    { from, exclude: new Set([region]) },
    callbackBase,
    deps,
  );
  const outcome = outcomeOf(after, result);
  await afterLoss(row, attempt, outcome, deps);
  return outcome;
}

/**
 * Dispatches a queued generation that no region holds (one whose region was lost, a follower
 * promoted to leader, one the edge wrote but never got to dispatch), priced by its model version
 * and moderated by its project's policy as the first time. When no region takes it, it waits for
 * the sweep to offer it again.
 */
export async function dispatchAgain(
  row: GenerationRow,
  route: { from: GeoPoint | null; exclude?: ReadonlySet<string> },
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<{ row: GenerationRow; result: DispatchResult }> {
  const resolved = await getActiveModelVersion(deps.db, row.model, row.modelVersion);
  const project = row.projectId === null ? null : await getProject(deps.db, row.projectId);
  const dispatched = await dispatchGeneration(
    {
      row,
      attempt: nextAttempt(row),
      ...route,
      callbackBase,
      gpuMsPerMegapixel: resolved?.version.gpuMsPerMegapixel ?? null,
      moderation: moderationPolicyOf(project),
      onNoRegion: "wait",
    },
    deps,
  );
  deps.notifier.notify(row.id);
  return dispatched;
}

/** A generation that waited too long for any region to take it: failed, refunded. */
export async function giveUp(
  row: GenerationRow,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<GenerationRow | null> {
  const error: GenerationErrorBody =
    row.attempts.length > 0
      ? regionLost(row.attempts)
      : {
          type: "overloaded_error",
          code: "no_region_available",
          message: "no region could take the job in time; nothing was charged",
        };
  const at = new Date(deps.clock());
  return endGeneration(
    (tx) => failGeneration(tx, row.id, { error, at, expectJobId: null }),
    callbackBase,
    deps,
  );
}

function regionLost(attempts: readonly GenerationAttempt[]): GenerationErrorBody {
  const tried = attempts.map((a) => `${a.region}: ${a.reason}`).join(", ");
  return {
    type: "api_error",
    code: "region_lost",
    message: `the job's region was lost and no other region finished it (${tried}); nothing was charged`,
  };
}

function outcomeOf(row: GenerationRow, result: DispatchResult): LossOutcome {
  if (result.kind === "accepted") return "redispatched";
  return row.status === "queued" ? "waiting" : "failed";
}

/** Counts and logs the loss; a region that let a lease run out is told to drop the job. */
async function afterLoss(
  row: GenerationRow,
  attempt: GenerationAttempt,
  outcome: LossOutcome,
  deps: GenerationFlowDeps,
): Promise<void> {
  const leaseExpired = attempt.reason === "lease_expired";
  await countRedispatch(deps.db, attempt.region, { leaseExpired });
  deps.log({
    level: "warn",
    msg: "generation redispatched",
    generation_id: row.id,
    request_id: row.requestId,
    region: attempt.region,
    job_id: attempt.job_id,
    reason: attempt.reason,
    attempt: nextAttempt(row),
    outcome,
  });
  // A region that is alive but silent about the job may still run it: spare it the GPU time.
  if (leaseExpired) {
    deps.waitUntil(
      cancelRegionJob(
        attempt.region,
        attempt.job_id,
        { requestId: row.requestId ?? row.id, reason: "lease_expired" },
        deps,
      ),
    );
  }
}
