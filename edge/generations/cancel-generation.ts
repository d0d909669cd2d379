import { JobCancelAnswer, REGION_PATHS } from "../../contracts/region-protocol.ts";
import {
  cancelGeneration as cancelQueuedRow,
  getGenerationForAccount,
} from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { ApiError } from "../errors/index.ts";
import { ownGeneration } from "./own-generation.ts";
import { describeError } from "../lib/describe-error.ts";
import { callRegion } from "../routing/region-client.ts";
import { endGeneration, finishGeneration, type FinishGenerationDeps } from "./finish-generation.ts";

export interface CancelGenerationDeps extends FinishGenerationDeps {
  /** Telling the region happens after the answer. */
  waitUntil: (work: Promise<unknown>) => void;
}

export interface CancelGenerationInput {
  accountId: string;
  generationId: string;
  requestId: string;
  callbackBase: string;
}

/**
 * Cancels a generation that has not started: the row becomes `canceled` (the edge decides, so
 * later events for it are ignored), its reserved spend is refunded and its concurrency slot freed,
 * and the region holding the job is told to drop it. Canceling a canceled generation returns it
 * again; a started or finished one is a 409.
 */
export async function cancelGeneration(
  input: CancelGenerationInput,
  deps: CancelGenerationDeps,
): Promise<GenerationRow> {
  const { accountId, generationId } = input;
  const row = await ownGeneration(deps.db, accountId, generationId);
  // Again (a retried request): finishing is idempotent, and completes one that failed midway.
  if (row.status === "canceled") return finished(row, input, deps);
  if (row.status !== "queued") throw notCancelable(row);

  const at = new Date(deps.clock());
  // The row and its webhook message commit together; the refund and the rest follow.
  const canceled = await endGeneration(
    (tx) => cancelQueuedRow(tx, accountId, generationId, at),
    input.callbackBase,
    deps,
  );
  if (!canceled) {
    // It moved on between the read and the update (an event, or a concurrent cancel).
    const now = await getGenerationForAccount(deps.db, accountId, generationId);
    if (now?.status === "canceled") return finished(now, input, deps);
    throw notCancelable(now ?? row);
  }
  deps.notifier.notify(canceled.id);
  if (canceled.region !== null && canceled.routing) {
    deps.waitUntil(tellRegion(canceled.region, canceled.routing.job_id, input.requestId, deps));
  }
  return canceled;
}

async function finished(
  row: GenerationRow,
  input: CancelGenerationInput,
  deps: CancelGenerationDeps,
): Promise<GenerationRow> {
  await finishGeneration(row, input.callbackBase, deps);
  return row;
}

function notCancelable(row: GenerationRow): ApiError {
  const started = row.status === "running";
  return new ApiError({
    type: "invalid_request_error",
    status: 409,
    code: started ? "generation_already_started" : "generation_already_finished",
    message: started
      ? `generation ${row.id} is already running on a GPU and cannot be canceled`
      : `generation ${row.id} has already finished (${row.status}) and cannot be canceled`,
  });
}

/**
 * Asks the region to drop the job so no GPU time is spent on it. Best effort, within the dispatch
 * timeout, after the caller has its answer: the row is canceled whatever the region says. A job
 * the region had already put in a batch (`running`: the edge had not heard yet) runs to the end
 * with its output discarded; a region that is unreachable, or answers otherwise, may run it and
 * send its events, which the edge ignores. Either way the account is not charged.
 */
async function tellRegion(
  regionName: string,
  jobId: string,
  requestId: string,
  deps: CancelGenerationDeps,
): Promise<void> {
  const region = deps.directory.get(regionName);
  if (!region) return;
  const entry = { region: regionName, job_id: jobId, request_id: requestId };
  try {
    const res = await callRegion(
      region,
      {
        method: "POST",
        path: REGION_PATHS.jobCancel(jobId),
        requestId,
        timeoutMs: deps.timeoutMs,
      },
      deps,
    );
    const answer = JobCancelAnswer.safeParse(await res.json().catch(() => null));
    if (res.ok && answer.success) {
      const { state } = answer.data;
      deps.log({
        level: "info",
        msg: state === "canceled" ? "region dropped job" : `region could not drop job: ${state}`,
        state,
        ...entry,
      });
    } else {
      // 404: the region lost the job (a restart of an in-process queue): nothing will run.
      const level = res.status === 404 ? "info" : "warn";
      deps.log({ level, msg: "region did not cancel job", status: res.status, ...entry });
    }
  } catch (err) {
    deps.log({
      level: "warn",
      msg: "region unreachable for cancel",
      error: describeError(err),
      ...entry,
    });
  }
}
