import { REGION_PATHS, type ModerationPolicy } from "../../contracts/region-protocol.ts";
import type { Database } from "../../db/client/index.ts";
import {
  recordGenerationRoute,
  recordRoutingAttempts,
} from "../../db/queries/generation-routing.ts";
import { failGeneration, getGeneration } from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { dispatchJob, type DispatchDeps, type DispatchResult } from "../routing/dispatch.ts";
import type { GeoPoint } from "../routing/geo.ts";
import type { RegionCatalog } from "../routing/region-catalog.ts";
import { observeRoundTrips, routingRecord } from "../routing/routing-record.ts";
import { jobId } from "./job-id.ts";
import { estimateGpuMs, gpuCostMicrousd } from "./pricing.ts";

export interface DispatchGenerationDeps extends DispatchDeps {
  db: Database;
  catalog: RegionCatalog;
}

export interface DispatchGenerationInput {
  row: GenerationRow;
  /** 1 for the first dispatch; re-dispatches after retryable failures count up. */
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
}

/**
 * Offers a queued generation to the ranked regions and records the outcome on its row: routed
 * (region, estimated wait, price at that region) or failed (no region could take it, or one
 * refused it outright). The row returned is the one now stored.
 */
export async function dispatchGeneration(
  input: DispatchGenerationInput,
  deps: DispatchGenerationDeps,
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
    },
    candidates,
    (region) => base + REGION_PATHS.events(region.name),
    deps,
  );
  const at = new Date(deps.clock());
  observeRoundTrips(deps.directory, route, result.attempts);
  const routing = routingRecord(plan, result, job, at);
  let stored: GenerationRow | null;
  switch (result.kind) {
    case "accepted": {
      const region = result.region.name;
      const cost = gpuCostMicrousd(
        estimateGpuMs(input.gpuMsPerMegapixel, row.params.width, row.params.height),
        await deps.catalog.gpuPricePerHourMicrousd(region),
        row.priceMultiplier,
      );
      stored = await recordGenerationRoute(deps.db, row.id, {
        region,
        estimatedWaitMs: Math.round(result.accepted.estimated_wait_ms),
        costEstimatedMicrousd: cost,
        routing,
        at,
      });
      break;
    }
    case "exhausted":
      stored = await failGeneration(deps.db, row.id, {
        error: {
          type: "overloaded_error",
          code: "no_region_available",
          message:
            candidates.length === 0
              ? "no region is available"
              : `no region could take the job (${result.attempts.map((a) => `${a.region}: ${a.outcome}`).join(", ")})`,
        },
        at,
      });
      break;
    case "rejected":
      stored = await failGeneration(deps.db, row.id, {
        error: {
          type: "api_error",
          code: "region_rejected_job",
          message: `region ${result.region.name} refused the job (HTTP ${result.status})`,
        },
        at,
      });
      break;
  }
  // Failed too: which regions were tried, and why none took it.
  if (result.kind !== "accepted" && stored) {
    stored = (await recordRoutingAttempts(deps.db, row.id, routing)) ?? stored;
  }
  // Null when an event moved the row on meanwhile (e.g. it is already running): read it back.
  return { row: stored ?? (await getGeneration(deps.db, row.id)) ?? row, result };
}
