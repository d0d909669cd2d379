import type { GenerationParams } from "../../db/schema/generations.ts";
import type { Database } from "../../db/client/index.ts";
import type { ResolvedModelVersion } from "../../db/queries/models.ts";
import { getProjectAccess } from "../../db/queries/projects.ts";
import type { Project } from "../../db/schema/projects.ts";
import type { GenerationEstimate } from "../../contracts/pricing.ts";
import { ApiError, invalidRequest } from "../errors/index.ts";
import type { PricedRequest } from "../limits/price-request.ts";
import {
  blockedMessage,
  policyMatchesOf,
  PROMPT_BLOCKED,
  type PromptVerdict,
} from "../moderation/index.ts";
import type { GeoPoint } from "../routing/geo.ts";
import type { RegionDirectory } from "../routing/region-directory.ts";
import { estimateGpuMs, microusdToUsd } from "./pricing.ts";

/**
 * The project a caller generates under: its own, or one where it is an editor. Unknown ones (and
 * others' projects it is not a member of) are 400 project_not_found; a viewer is 403.
 */
export async function projectToGenerateIn(
  db: Database,
  accountId: string,
  projectId: string,
): Promise<Project> {
  const access = await getProjectAccess(db, accountId, projectId);
  if (!access)
    throw invalidRequest("project_not_found", `no such project: ${projectId}`, "project");
  if (access.role === "viewer") {
    throw new ApiError({
      type: "permission_error",
      code: "project_read_only",
      message: `this account is a viewer of ${projectId}: only its owner and editors generate under it`,
      param: "project",
    });
  }
  return access.project;
}

/** A dry run's prompt that moderation blocks: the same 422, with nothing recorded. */
export function dryRunBlocked(verdict: PromptVerdict): ApiError {
  return new ApiError({
    type: "content_policy_violation",
    code: PROMPT_BLOCKED,
    message: blockedMessage(verdict),
    param: "prompt",
    categories: [...verdict.categories],
    matches: policyMatchesOf(verdict),
  });
}

/** The answer of `"dry_run": true`: price, lane and the region expected to finish it soonest. */
export function estimateOf(
  resolved: ResolvedModelVersion,
  params: Omit<GenerationParams, "seed"> & { seed?: number },
  priced: PricedRequest,
  input: { client: GeoPoint | null; colo?: string | null },
  deps: { directory: RegionDirectory },
): GenerationEstimate {
  const plan = deps.directory.plan({
    client: input.client,
    colo: input.colo ?? null,
    lane: params.priority,
    model: `${resolved.model.name}@${resolved.version.version}`,
  });
  const best = plan.candidates[0];
  return {
    object: "generation_estimate",
    model: resolved.model.name,
    model_version: resolved.version.version,
    params: { width: params.width, height: params.height, priority: params.priority },
    lane_change: priced.laneChange,
    region: best?.config.name ?? null,
    queue: { estimated_wait_ms: best ? Math.round(best.expectedMs) : null },
    cost: {
      estimated_usd: microusdToUsd(priced.estimateMicrousd),
      gpu_ms: Math.round(
        estimateGpuMs(resolved.version.gpuMsPerMegapixel, params.width, params.height),
      ),
    },
    livemode: priced.livemode,
  };
}
