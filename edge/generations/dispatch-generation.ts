import type { GenerationErrorBody } from "../../db/schema/generations.ts";
import { REGION_PATHS, type ModerationPolicy } from "../../contracts/region-protocol.ts";
import { claimDispatch } from "../../db/queries/generation-leases.ts";
import { recordGenerationRoute } from "../../db/queries/generation-routing.ts";
import { failGeneration, getGeneration } from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { cancelRegionJob } from "../routing/cancel-job.ts";
import { dispatchJob, type DispatchResult, type JobDraft } from "../routing/dispatch.ts";
import type { GeoPoint } from "../routing/geo.ts";
import { observeRoundTrips, routingRecord } from "../routing/routing-record.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { jobId } from "./job-id.ts";
import { leaseDeadline } from "./leases.ts";
import { estimateGpuMs } from "./pricing.ts";
import { endGeneration } from "./transitions.ts";
import { estimateFor } from "../pricing/charge.ts";

export interface DispatchGenerationInput {
  row: GenerationRow;
  /** 1 for the first dispatch; each dispatch given up (a region lost) counts one more. */
  attempt: number;
  /** Regions are tried nearest first from here (the client, or the region that gave the job back). */
  from: GeoPoint | null;
  /** The edge location (request.cf.colo) round trips are learned for; null: none. */
  colo?: string | null;
  exclude?: ReadonlySet<string>;
  /** Absolute base URL regions post their events to. */
  callbackBase: string;
  /** GPU ms per megapixel of the model version, for re-pricing when another region takes it. */
  gpuMsPerMegapixel: number | null;
  /** The project's output-moderation policy (absent: the region's default). */
  moderation?: ModerationPolicy;
  /**
   * When no region takes the job: `fail` it (a new request, answered 503 at once), or `wait` and
   * offer it again later (a generation already accepted, whose region was lost).
   */
  onNoRegion: "fail" | "wait";
}

/**
 * Offers a queued generation to the ranked regions and records the outcome on its row: routed
 * (region, estimated wait, price at that region, the job's lease), waiting for a region (`wait`),
 * or failed (no region could take it, or one refused it outright), the failure through the one
 * owner of terminal transitions. The row returned is the one now stored.
 */
export async function dispatchGeneration(
  input: DispatchGenerationInput,
  deps: GenerationFlowDeps,
): Promise<{ row: GenerationRow; result: DispatchResult }> {
  const { row, attempt } = input;
  await deps.catalog.rows(); // brings in heartbeats other isolates received
  const route = {
    client: input.from,
    colo: input.colo ?? null,
    lane: row.params.priority,
    model: `${row.model}@${row.modelVersion}`,
    exclude: input.exclude,
  };
  const plan = deps.directory.plan(route);
  const candidates = plan.candidates.map((c) => c.config);
  const base = input.callbackBase.replace(/\/+$/, "");
  const job = jobId({ generationId: row.id, attempt });
  const result = await dispatchJob(
    {
      job_id: job,
      request_id: row.requestId ?? row.id,
      account_id: row.accountId,
      project_id: row.projectId,
      model: row.model,
      model_version: row.modelVersion,
      prompt: row.prompt,
      negative_prompt: row.negativePrompt,
      width: row.params.width,
      height: row.params.height,
      seed: row.params.seed,
      priority: row.params.priority,
      submitted_at: new Date(deps.clock()).toISOString(),
      ...(input.moderation && { moderation: input.moderation }),
      ...jobStyleOf(row),
    },
    candidates,
    (region) => base + REGION_PATHS.events(region.name),
    deps,
  );
  const at = new Date(deps.clock());
  observeRoundTrips(deps.directory, route, result.attempts);
  const routing = routingRecord(plan, result, job, at);
  let stored: GenerationRow | null;
  if (result.kind === "accepted") {
    stored = await recordRoute(input, result, { job, routing, at }, deps);
  } else if (result.kind === "exhausted" && input.onNoRegion === "wait") {
    const until = new Date(at.getTime() + deps.leases.redispatchRetryMs);
    stored = await claimDispatch(deps.db, row.id, { seen: row.leaseExpiresAt, until, routing });
  } else {
    const error = failureOf(result, candidates.length);
    stored = await endGeneration(
      (tx) => failGeneration(tx, row.id, { error, at, routing, expectJobId: null }),
      input.callbackBase,
      deps,
    );
  }
  // Null when something moved the row on meanwhile (an event, a cancel): read it back.
  return { row: stored ?? (await getGeneration(deps.db, row.id)) ?? row, result };
}

/** Records the accepting region, the price there and the lease; drops the job if it is moot now. */
async function recordRoute(
  input: DispatchGenerationInput,
  result: Extract<DispatchResult, { kind: "accepted" }>,
  decision: { job: string; routing: ReturnType<typeof routingRecord>; at: Date },
  deps: GenerationFlowDeps,
): Promise<GenerationRow | null> {
  const { row } = input;
  const region = result.region.name;
  const expectedRunMs = estimateGpuMs(input.gpuMsPerMegapixel, row.params.width, row.params.height);
  const estimatedWaitMs = Math.round(result.accepted.estimated_wait_ms);
  const stored = await recordGenerationRoute(deps.db, row.id, {
    region,
    estimatedWaitMs,
    costEstimatedMicrousd: await estimateFor(row, region, input.gpuMsPerMegapixel, deps.prices),
    routing: decision.routing,
    at: decision.at,
    jobId: decision.job,
    leaseHolder: result.accepted.holder ?? null,
    leaseExpiresAt: new Date(
      leaseDeadline(decision.at.getTime(), { estimatedWaitMs, expectedRunMs }, deps.leases),
    ),
  });
  if (!stored) {
    // Canceled, ended or taken over while the region answered: nobody wants this job now.
    deps.waitUntil(
      cancelRegionJob(
        region,
        decision.job,
        { requestId: row.requestId ?? row.id, reason: "superseded" },
        deps,
      ),
    );
  }
  return stored;
}

function failureOf(
  result: Exclude<DispatchResult, { kind: "accepted" }>,
  candidates: number,
): GenerationErrorBody {
  if (result.kind === "rejected") {
    return {
      type: "api_error",
      code: "region_rejected_job",
      message: `region ${result.region.name} refused the job (HTTP ${result.status})`,
    };
  }
  return {
    type: "overloaded_error",
    code: "no_region_available",
    message:
      candidates === 0
        ? "no region is available"
        : `no region could take the job (${result.attempts.map((a) => `${a.region}: ${a.outcome}`).join(", ")})`,
  };
}

/** The style vector and the resample source a generation carries, as its job sends them. */
function jobStyleOf(row: GenerationRow): Pick<JobDraft, "style" | "source"> {
  const { style, derivation } = row;
  return {
    ...(style?.vector &&
      style.space && {
        style: { space: style.space, vector: style.vector, strength: style.strength },
      }),
    ...(derivation?.source && { source: derivation.source }),
  };
}
