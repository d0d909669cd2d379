import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import type { JobEvent } from "../../contracts/region-protocol.ts";
import {
  completeGeneration,
  failGeneration,
  getGeneration,
  markGenerationRunning,
} from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import {
  endGeneration,
  finishGeneration,
  redispatchGeneration,
  startFollowers,
  type FinishGenerationDeps,
} from "./finish-generation.ts";
import type { GenerationNotifier } from "./generation-notifier.ts";
import { parseJobId, type JobRef } from "./job-id.ts";
import { gpuCostMicrousd } from "./pricing.ts";

export interface ApplyJobEventDeps extends FinishGenerationDeps {
  notifier: GenerationNotifier;
  maxDispatchAttempts: number;
}

/**
 * - applied: the row changed;
 * - ignored: a duplicate or late event (the row had moved on): nothing to do, not an error;
 * - redispatched: a retryable failure was routed to another region;
 * - unknown: no generation for this job id.
 */
export type ApplyOutcome = "applied" | "ignored" | "redispatched" | "unknown";

/**
 * Applies a region's job event to its generation. Idempotent: the row's state transitions only
 * go forward, so a repeated or late event changes nothing. A terminal transition and its webhook
 * message commit together (endGeneration). Wakes any `Prefer: wait` holders.
 */
export async function applyJobEvent(
  event: JobEvent,
  callbackBase: string,
  deps: ApplyJobEventDeps,
): Promise<ApplyOutcome> {
  const ref = parseJobId(event.job_id);
  if (!ref) return "unknown";
  const row = await getGeneration(deps.db, ref.generationId);
  if (!row) return "unknown";
  if (TERMINAL_STATUSES.has(row.status)) {
    // A region retries an event it could not deliver: if it is the one that ended the row, finish
    // what an attempt that failed midway left undone (idempotent; mostly nothing).
    if (event.type === row.status) await finishGeneration(row, callbackBase, deps);
    return "ignored";
  }
  const outcome = await applyToRow(row, ref, event, callbackBase, deps);
  if (outcome !== "ignored") deps.notifier.notify(row.id);
  return outcome;
}

async function applyToRow(
  row: GenerationRow,
  ref: JobRef,
  event: JobEvent,
  callbackBase: string,
  deps: ApplyJobEventDeps,
): Promise<ApplyOutcome> {
  const at = eventTime(event.at, deps.clock());
  switch (event.type) {
    case "running": {
      const changed = await markGenerationRunning(deps.db, row.id, { region: event.region, at });
      if (changed) await startFollowers(changed, deps);
      return changed ? "applied" : "ignored";
    }
    case "succeeded": {
      const { output } = event;
      const pricePerHour = await deps.catalog.gpuPricePerHourMicrousd(event.region);
      // Settles the measured cost; requests merged into this one get its output.
      const changed = await endGeneration(
        (tx) =>
          completeGeneration(tx, row.id, {
            assetKey: output.key,
            contentType: output.content_type,
            bytes: output.bytes,
            width: output.width,
            height: output.height,
            outputSha256: output.sha256,
            gpuMs: Math.round(event.gpu_ms),
            costActualMicrousd: gpuCostMicrousd(event.gpu_ms, pricePerHour, row.priceMultiplier),
            region: event.region,
            startedAt: eventTime(event.started_at, at.getTime()),
            completedAt: at,
          }),
        callbackBase,
        deps,
      );
      deps.log({
        level: "info",
        msg: "generation succeeded",
        generation_id: row.id,
        request_id: event.request_id,
        region: event.region,
        gpu_ms: event.gpu_ms,
        execution_provider: event.execution_provider,
        timings: event.timings,
      });
      return changed ? "applied" : "ignored";
    }
    case "failed": {
      // A failure from a region the job has since left (an earlier attempt) is stale.
      if (row.region !== null && row.region !== event.region) return "ignored";
      if (event.retryable && row.status === "queued" && ref.attempt < deps.maxDispatchAttempts) {
        await redispatchGeneration(
          row,
          {
            attempt: ref.attempt + 1,
            // Nearest to where the job was headed: the client is likely close to it.
            from: deps.directory.get(event.region) ?? null,
            exclude: new Set([event.region]),
          },
          callbackBase,
          deps,
        );
        return "redispatched";
      }
      const error = { type: "api_error", code: event.error.code, message: event.error.message };
      const changed = await endGeneration(
        (tx) => failGeneration(tx, row.id, { error, at }),
        callbackBase,
        deps,
      );
      return changed ? "applied" : "ignored";
    }
    case "blocked": {
      // Output moderation refused the image: it exists only in quarantine, and is not charged.
      const categories = [...event.categories];
      const changed = await endGeneration(
        (tx) =>
          failGeneration(tx, row.id, {
            status: "blocked",
            error: {
              type: "content_policy_violation",
              code: "output_blocked",
              message: `the generated image was blocked by output moderation (${categories.join(", ")})`,
              categories,
            },
            moderation: {
              output: { action: "blocked", categories },
              output_scores: event.scores,
              output_classifier: event.classifier,
            },
            at,
          }),
        callbackBase,
        deps,
      );
      deps.log({
        level: "info",
        msg: "generation blocked",
        generation_id: row.id,
        request_id: event.request_id,
        region: event.region,
        categories,
      });
      return changed ? "applied" : "ignored";
    }
  }
}

/** A region's timestamp, or `fallback` (edge clock) when it is not a usable date. */
function eventTime(iso: string, fallback: number): Date {
  const ms = Date.parse(iso);
  return new Date(Number.isNaN(ms) ? fallback : ms);
}
