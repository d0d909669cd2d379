import type { GenerationErrorBody, NewGenerationRow } from "../../db/schema/generations.ts";
import { REGION_PATHS, type ModerationPolicy } from "../../contracts/region-protocol.ts";
import { claimDispatch } from "../../db/queries/generation-leases.ts";
import { recordGenerationRoute, type RouteRecord } from "../../db/queries/generation-routing.ts";
import { failGeneration, getGeneration } from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { cancelRegionJob } from "../routing/cancel-job.ts";
import { dispatchJob, type DispatchResult, type JobDraft } from "../routing/dispatch.ts";
import type { GeoPoint } from "../routing/geo.ts";
import type { RouteRequest, RoutePlan } from "../routing/route-plan.ts";
import { observeRoundTrips, pendingRouting, routingRecord } from "../routing/routing-record.ts";
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
  /**
   * The decision taken before the row was written, whose intended route the row carries
   * (intendedRoute): a new submit's row is written once, with its route, before any dispatch.
   */
  planned?: PlannedDispatch;
  /**
   * `behind`: when the intended region takes the job, the answer does not wait for the outcome
   * (the region's own wait estimate, the holder, the lease, the price there) to be written: the
   * row already names the region and the job, and the outcome is written after it. Any other
   * outcome is written before returning. Default `now`.
   */
  recordRoute?: "now" | "behind";
}

/** A routing decision: the regions in the order to try, and the job id this dispatch uses. */
export interface PlannedDispatch {
  plan: RoutePlan;
  route: RouteRequest;
  job: string;
  decidedAt: Date;
}

/** Scores the regions for a generation's next dispatch (attempt `attempt`). */
export async function planDispatch(
  input: {
    generationId: string;
    attempt: number;
    lane: GenerationRow["params"]["priority"];
    model: string;
    from: GeoPoint | null;
    colo?: string | null;
    exclude?: ReadonlySet<string>;
  },
  deps: GenerationFlowDeps,
): Promise<PlannedDispatch> {
  await deps.catalog.rows(); // brings in heartbeats other isolates received
  const route: RouteRequest = {
    client: input.from,
    colo: input.colo ?? null,
    lane: input.lane,
    model: input.model,
    exclude: input.exclude,
  };
  return {
    plan: deps.directory.plan(route),
    route,
    job: jobId({ generationId: input.generationId, attempt: input.attempt }),
    decidedAt: new Date(deps.clock()),
  };
}

/**
 * The columns that name a planned dispatch's first choice on the row before it is dispatched:
 * region, job id, decision (its `region` still null: no region has answered) and the directory's
 * wait estimate there. What anyone reads (a GET, a cancel, the sweep) then names where the job is
 * going; the sweep leaves such a row to its dispatch until its dispatch lease runs out.
 */
export function intendedRoute(
  planned: PlannedDispatch,
): Pick<NewGenerationRow, "region" | "jobId" | "routedAt" | "routing" | "estimatedWaitMs"> {
  const first = planned.plan.candidates[0];
  if (!first) return {};
  return {
    region: first.config.name,
    jobId: planned.job,
    routedAt: planned.decidedAt,
    routing: pendingRouting(planned.plan, planned.job, planned.decidedAt),
    estimatedWaitMs: Math.round(first.queueMs),
  };
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
  const planned =
    input.planned ??
    (await planDispatch(
      {
        generationId: row.id,
        attempt,
        lane: row.params.priority,
        model: `${row.model}@${row.modelVersion}`,
        from: input.from,
        colo: input.colo,
        exclude: input.exclude,
      },
      deps,
    ));
  const { plan, route, job } = planned;
  const candidates = plan.candidates.map((c) => c.config);
  const base = input.callbackBase.replace(/\/+$/, "");
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
    const record = await routeRecordOf(input, result, { job, routing, at }, deps);
    // The row names this region and job already: the answer need not wait for the rest.
    if (input.recordRoute === "behind" && row.region === record.region && row.jobId === job) {
      deps.waitUntil(recordRoute(row, record, deps));
      return { row: { ...row, ...record, routedAt: record.at, updatedAt: at }, result };
    }
    stored = await recordRoute(row, record, deps);
  } else if (result.kind === "exhausted" && input.onNoRegion === "wait") {
    const until = new Date(at.getTime() + deps.leases.redispatchRetryMs);
    stored = await claimDispatch(deps.db, row.id, { seen: row.leaseExpiresAt, until, routing });
  } else {
    const error = failureOf(result, candidates.length);
    // A route the row carried (intendedRoute) was never taken: no region, no job.
    const untaken = row.jobId === null ? {} : { jobId: null, region: null };
    stored = await endGeneration(
      (tx) =>
        failGeneration(tx, row.id, { error, at, routing, expectJobId: row.jobId, ...untaken }),
      input.callbackBase,
      deps,
    );
  }
  // Null when something moved the row on meanwhile (an event, a cancel): read it back.
  return { row: stored ?? (await getGeneration(deps.db, row.id)) ?? row, result };
}

/** What a region's acceptance records on the row: region, price there, decision and lease. */
async function routeRecordOf(
  input: DispatchGenerationInput,
  result: Extract<DispatchResult, { kind: "accepted" }>,
  decision: { job: string; routing: ReturnType<typeof routingRecord>; at: Date },
  deps: GenerationFlowDeps,
): Promise<RouteRecord> {
  const { row } = input;
  const region = result.region.name;
  const expectedRunMs = estimateGpuMs(input.gpuMsPerMegapixel, row.params.width, row.params.height);
  const estimatedWaitMs = Math.round(result.accepted.estimated_wait_ms);
  return {
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
  };
}

/**
 * Writes the acceptance; if the row moved on meanwhile in a way that leaves the job unwanted (a
 * cancel, a sweep that took it over), tells the region to drop it. A row this job already moved on
 * (its own `running` or result arrived first, as a region may answer before the edge has written
 * its 202) keeps it.
 */
async function recordRoute(
  row: GenerationRow,
  record: RouteRecord,
  deps: GenerationFlowDeps,
): Promise<GenerationRow | null> {
  const stored = await recordGenerationRoute(deps.db, row.id, record);
  if (stored) return stored;
  const now = await getGeneration(deps.db, row.id);
  if (now && now.jobId === record.jobId && now.status !== "canceled") return null;
  deps.waitUntil(
    cancelRegionJob(
      record.region,
      record.jobId,
      { requestId: row.requestId ?? row.id, reason: "superseded" },
      deps,
    ),
  );
  return null;
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
