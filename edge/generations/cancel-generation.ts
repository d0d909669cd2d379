import {
  cancelGeneration as cancelQueuedRow,
  getGenerationForAccount,
} from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { ApiError } from "../errors/index.ts";
import { cancelRegionJob } from "../routing/cancel-job.ts";
import { handOverFollowers } from "./followers.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { ownGeneration } from "./own-generation.ts";
import { endGeneration, finishEnded } from "./transitions.ts";

export interface CancelGenerationInput {
  accountId: string;
  generationId: string;
  requestId: string;
  callbackBase: string;
}

/**
 * Cancels a generation that has not started (queued, or waiting to be dispatched again): the row
 * becomes `canceled` (the edge decides, so later events for it are ignored), its reserved spend is
 * refunded and its concurrency slot freed, and the region holding the job is told to drop it.
 * Canceling a canceled generation returns it again; a started or finished one is a 409.
 */
export async function cancelGeneration(
  input: CancelGenerationInput,
  deps: GenerationFlowDeps,
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
  if (canceled.region !== null && canceled.jobId !== null) {
    deps.waitUntil(
      cancelRegionJob(
        canceled.region,
        canceled.jobId,
        { requestId: input.requestId, reason: "canceled" },
        deps,
      ),
    );
  }
  // Identical requests merged into it still want the image: one of them takes the job over.
  await handOverFollowers(canceled, input.callbackBase, deps);
  return canceled;
}

async function finished(
  row: GenerationRow,
  input: CancelGenerationInput,
  deps: GenerationFlowDeps,
): Promise<GenerationRow> {
  await finishEnded(row, input.callbackBase, deps);
  await handOverFollowers(row, input.callbackBase, deps);
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
