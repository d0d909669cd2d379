import type { FeedbackObject, FeedbackRequest } from "../../contracts/feedback.ts";
import type { Database } from "../../db/client/types.ts";
import { castVote, hasFetchedOutput, withdrawVote } from "../../db/queries/feedback.ts";
import type { Feedback } from "../../db/schema/feedback.ts";
import { ApiError, notFound } from "../errors/index.ts";
import type { AccessLimits } from "../limits/access-limits.ts";
import type { Caller } from "../middleware/auth/index.ts";
import { feedbackTarget, requireOutput } from "./feedback-target.ts";
import { hideIfReported, type HideDeps } from "./hide-reported.ts";

export interface FeedbackDeps extends HideDeps {
  db: Database;
  limits: AccessLimits;
  clock: () => number;
}

function takeVote(limits: AccessLimits, accountId: string): void {
  const waitS = limits.vote(accountId);
  if (waitS === null) return;
  throw new ApiError({
    type: "rate_limit_error",
    code: "vote_rate_limit_exceeded",
    message: "too many votes from this account: slow down",
    headers: { "Retry-After": String(waitS) },
  });
}

/**
 * POST /v1/generations/:id/feedback: the caller's one vote on the output (rate-limited per account).
 * What fraud controls read is frozen here: own output, test-mode key, fetched before voting. A
 * report may hide the output (hide-reported.ts).
 */
export async function castFeedback(
  caller: Caller,
  generationId: string,
  request: FeedbackRequest,
  deps: FeedbackDeps,
): Promise<Feedback> {
  const accountId = caller.account.id;
  takeVote(deps.limits, accountId);
  const { row: target, own } = await feedbackTarget(deps.db, accountId, generationId);
  requireOutput(target);
  const { row } = await castVote(deps.db, {
    accountId,
    apiKeyId: caller.apiKey.id,
    generationId: target.id,
    kind: request.kind,
    reason: request.reason ?? null,
    comment: request.comment ?? null,
    own,
    testMode: caller.apiKey.mode === "test",
    // The owner has its output; anyone else must have downloaded it first.
    fetched: own || (await hasFetchedOutput(deps.db, accountId, target.id)),
    at: new Date(deps.clock()),
  });
  if (row.kind === "report" && !row.own && !row.testMode) await hideIfReported(target, deps);
  return row;
}

/** DELETE /v1/generations/:id/feedback: takes the caller's vote back (404 when it has none). */
export async function withdrawFeedback(
  caller: Caller,
  generationId: string,
  deps: FeedbackDeps,
): Promise<Feedback> {
  takeVote(deps.limits, caller.account.id);
  const { row: target } = await feedbackTarget(deps.db, caller.account.id, generationId);
  const removed = await withdrawVote(deps.db, caller.account.id, target.id);
  if (!removed) throw notFound(`no feedback of yours on ${target.id}`, "feedback_not_found");
  return removed;
}

export function toFeedback(row: Feedback): FeedbackObject {
  return {
    id: row.id,
    object: "feedback",
    generation: row.generationId,
    kind: row.kind,
    reason: row.reason,
    comment: row.comment,
    livemode: !row.testMode,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
