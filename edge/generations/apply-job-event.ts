import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import type { JobEvent } from "../../contracts/region-protocol.ts";
import {
  completeGeneration,
  failGeneration,
  getGeneration,
  markGenerationRunning,
} from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { cancelRegionJob } from "../routing/cancel-job.ts";
import { recordOutputStyle } from "../search/style-records.ts";
import { startFollowers } from "./followers.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { parseJobId } from "./job-id.ts";
import { awaitingDispatchAnswer, endedAttempt, nextAttempt, offeredTo } from "./leases.ts";
import { loseAttempt } from "./redispatch.ts";
import { endGeneration, finishEnded } from "./transitions.ts";
import { chargeFor } from "../pricing/charge.ts";

/**
 * - applied: the row changed;
 * - ignored: a duplicate, late or stale event (the row had moved on): nothing to do, not an error;
 * - redispatched: the region gave the job back, and it was routed again;
 * - unknown: no generation for this job id;
 * - foreign: the event's region was not given this job (refused: a region speaks for its own).
 */
export type ApplyOutcome = "applied" | "ignored" | "redispatched" | "unknown" | "foreign";

/**
 * Applies a region's job event to its generation. Idempotent: a row's state only moves forward, so
 * a repeated or late event changes nothing. Of a generation dispatched more than once, the first
 * result to arrive wins, whichever attempt it comes from; the other attempts' events are ignored.
 * Terminal transitions go through the one owner (transitions.ts).
 */
export async function applyJobEvent(
  event: JobEvent,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<ApplyOutcome> {
  const ref = parseJobId(event.job_id);
  if (!ref) return "unknown";
  const row = await getGeneration(deps.db, ref.generationId);
  if (!row) return "unknown";
  const current = isCurrent(row, event.job_id, ref.attempt);
  if (!fromItsRegion(row, event, current)) {
    deps.log({
      level: "warn",
      msg: "job event from a region that does not hold the job",
      generation_id: row.id,
      job_id: event.job_id,
      region: event.region,
    });
    return "foreign";
  }
  if (TERMINAL_STATUSES.has(row.status)) {
    if (event.type === row.status && event.job_id === row.jobId) {
      // A region retries an event it could not deliver: if it is the one that ended the row,
      // finish what an attempt that failed midway left undone (idempotent; mostly nothing).
      await finishEnded(row, callbackBase, deps);
    } else if (event.type === "succeeded") {
      // Another attempt ended it first: this output is referenced by no generation, so it is
      // never served; its bytes are an orphan in that region's store (lifecycle rules expire it).
      deps.log({
        level: "info",
        msg: "late result ignored",
        generation_id: row.id,
        job_id: event.job_id,
        region: event.region,
        asset_key: event.output.key,
      });
    }
    return "ignored";
  }
  return applyToRow(row, event, current, callbackBase, deps);
}

/**
 * The event is about the generation's current dispatch, or the one in flight whose route is not
 * recorded yet (a region may answer with events before the edge has its 202).
 */
function isCurrent(row: GenerationRow, jobId: string, attempt: number): boolean {
  return row.jobId === null ? attempt === nextAttempt(row) : row.jobId === jobId;
}

/**
 * A region speaks only for the jobs it was given: the current one's region (any region the
 * decision offered it to, while no answer has been recorded: a failover's events may come first).
 */
function fromItsRegion(row: GenerationRow, event: JobEvent, current: boolean): boolean {
  if (current) {
    return row.region === null || row.region === event.region || offeredTo(row, event.region);
  }
  return row.attempts.some((a) => a.job_id === event.job_id && a.region === event.region);
}

async function applyToRow(
  row: GenerationRow,
  event: JobEvent,
  current: boolean,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<ApplyOutcome> {
  const at = eventTime(event.at, deps.clock());
  switch (event.type) {
    case "running": {
      if (!current) return "ignored";
      const changed = await markGenerationRunning(deps.db, row.id, {
        region: event.region,
        jobId: event.job_id,
        at,
      });
      if (!changed) return "ignored";
      deps.notifier.notify(row.id);
      await startFollowers(changed, deps);
      return "applied";
    }
    case "succeeded": {
      // Priced before the transaction: on PGlite a query outside it would wait for it to end.
      const { output } = event;
      const charged = await chargeFor(
        row,
        { region: event.region, gpuMs: event.gpu_ms, width: output.width, height: output.height },
        deps.prices,
      );
      const result = {
        ...succeededResult(event, at, charged),
        ...winner(row, event, at, current),
      };
      const changed = await endGeneration(
        async (tx) => {
          const done = await completeGeneration(tx, row.id, result);
          // Its style (search, references) commits with it.
          if (done) await recordOutputStyle(tx, done, event);
          return done;
        },
        callbackBase,
        deps,
      );
      return ended(changed, row, event, current, deps);
    }
    case "blocked": {
      const failure = { ...blockedFailure(event, at), ...winner(row, event, at, current) };
      const changed = await endGeneration(
        (tx) => failGeneration(tx, row.id, failure),
        callbackBase,
        deps,
      );
      return ended(changed, row, event, current, deps);
    }
    case "failed": {
      // A failure of an attempt the job has since left is stale: another one is under way.
      if (!current) return "ignored";
      if (event.retryable) {
        // A dispatch not yet recorded was given up by the region that reports on it.
        const region = awaitingDispatchAnswer(row) ? event.region : (row.region ?? event.region);
        const outcome = await loseAttempt(
          { ...row, region, jobId: row.jobId ?? event.job_id },
          "handed_back",
          callbackBase,
          deps,
        );
        if (outcome === "moved_on") return "ignored";
        return outcome === "failed" ? "applied" : "redispatched";
      }
      const error = { type: "api_error", code: event.error.code, message: event.error.message };
      const changed = await endGeneration(
        (tx) => failGeneration(tx, row.id, { error, at }),
        callbackBase,
        deps,
      );
      return changed ? "applied" : "ignored";
    }
  }
}

/** The row's output from a `succeeded` event, priced at the region that ran it. */
function succeededResult(
  event: Extract<JobEvent, { type: "succeeded" }>,
  at: Date,
  chargedMicrousd: number,
) {
  const { output } = event;
  return {
    assetKey: output.key,
    contentType: output.content_type,
    bytes: output.bytes,
    width: output.width,
    height: output.height,
    outputSha256: output.sha256,
    gpuMs: Math.round(event.gpu_ms),
    costActualMicrousd: chargedMicrousd,
    region: event.region,
    startedAt: eventTime(event.started_at, at.getTime()),
    completedAt: at,
  };
}

/** Output moderation refused the image: it exists only in quarantine, and is not charged. */
function blockedFailure(event: Extract<JobEvent, { type: "blocked" }>, at: Date) {
  const categories = [...event.categories];
  return {
    status: "blocked" as const,
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
  };
}

/**
 * An earlier attempt's outcome ends the generation: it names the job whose result it is, and the
 * current dispatch (if any) joins the history as superseded.
 */
function winner(row: GenerationRow, event: JobEvent, at: Date, current: boolean) {
  if (current) return { jobId: event.job_id, region: event.region };
  return {
    jobId: event.job_id,
    region: event.region,
    ...(row.jobId !== null &&
      row.region !== null && {
        superseded: endedAttempt(row, at, "superseded"),
      }),
  };
}

function ended(
  changed: GenerationRow | null,
  row: GenerationRow,
  event: Extract<JobEvent, { type: "succeeded" | "blocked" }>,
  current: boolean,
  deps: GenerationFlowDeps,
): ApplyOutcome {
  deps.log({
    level: "info",
    msg: event.type === "succeeded" ? "generation succeeded" : "generation blocked",
    generation_id: row.id,
    request_id: event.request_id,
    region: event.region,
    job_id: event.job_id,
    gpu_ms: event.gpu_ms,
    execution_provider: event.execution_provider,
    ...(event.type === "succeeded" ? { timings: event.timings } : { categories: event.categories }),
    ...(!current && { from_earlier_attempt: true }),
  });
  if (!changed) return "ignored";
  // Identical seeded requests are answered from this output without asking the database first.
  deps.dedupSources.remember(changed);
  // The dispatch under way is moot now: spare its region the GPU time.
  if (!current && row.jobId !== null && row.region !== null) {
    deps.waitUntil(
      cancelRegionJob(
        row.region,
        row.jobId,
        { requestId: row.requestId ?? row.id, reason: "superseded" },
        deps,
      ),
    );
  }
  return "applied";
}

/** A region's timestamp, or `fallback` (edge clock) when it is not a usable date. */
function eventTime(iso: string, fallback: number): Date {
  const ms = Date.parse(iso);
  return new Date(Number.isNaN(ms) ? fallback : ms);
}
