import type { CreateGenerationRequest } from "../../contracts/api.ts";
import { findGenerationByIdempotencyKey, insertGeneration } from "../../db/queries/generations.ts";
import { getActiveModelVersion } from "../../db/queries/models.ts";
import { getProjectForAccount } from "../../db/queries/projects.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { ApiError, invalidRequest } from "../errors/index.ts";
import { sha256Hex } from "../lib/digest.ts";
import type { Caller } from "../middleware/auth/index.ts";
import type { GeoPoint } from "../routing/geo.ts";
import { dispatchGeneration, type DispatchGenerationDeps } from "./dispatch-generation.ts";
import { estimateGpuMs, gpuCostMicrousd } from "./pricing.ts";

export const DEFAULT_MODEL = "cppn-glove";
export const DEFAULT_PRIORITY = "standard";

export interface CreateGenerationInput {
  caller: Caller;
  request: CreateGenerationRequest;
  idempotencyKey: string | undefined;
  requestId: string;
  client: GeoPoint | null;
  callbackBase: string;
}

export type CreateGenerationDeps = DispatchGenerationDeps;

/** `replayed`: an earlier request with the same Idempotency-Key and body made this generation. */
export type CreateGenerationResult = { row: GenerationRow; replayed: boolean };

/**
 * Accepts a generation: resolves model and project, prices it, writes it `queued` (before any
 * dispatch, so nothing accepted is lost), then routes it to the nearest region that takes it.
 * Throws 503 overloaded_error (row failed) when no region can take it now.
 */
export async function createGeneration(
  input: CreateGenerationInput,
  deps: CreateGenerationDeps,
): Promise<CreateGenerationResult> {
  const { caller, request, idempotencyKey } = input;
  const accountId = caller.account.id;
  const requestHash = await sha256Hex(canonicalJson(request));
  if (idempotencyKey !== undefined) {
    const earlier = await findGenerationByIdempotencyKey(deps.db, accountId, idempotencyKey);
    if (earlier) return replay(earlier, requestHash);
  }

  const [name, pinned] = (request.model ?? DEFAULT_MODEL).split("@") as [string, string?];
  const resolved = await getActiveModelVersion(deps.db, name, pinned);
  if (!resolved) {
    throw invalidRequest(
      "model_not_found",
      pinned === undefined
        ? `model '${name}' does not exist or has no active version`
        : `model version '${name}@${pinned}' does not exist or is retired`,
      "model",
    );
  }
  if (request.project !== undefined) {
    const project = await getProjectForAccount(deps.db, accountId, request.project);
    if (!project) {
      throw invalidRequest("project_not_found", `no such project: ${request.project}`, "project");
    }
  }

  const params = {
    width: request.width,
    height: request.height,
    seed: request.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!,
    priority: request.priority ?? DEFAULT_PRIORITY,
  };
  await deps.catalog.rows();
  const likelyRegion = deps.directory.rank(input.client)[0];
  const gpuMsPerMegapixel = resolved.version.gpuMsPerMegapixel;
  const estimate = gpuCostMicrousd(
    estimateGpuMs(gpuMsPerMegapixel, params.width, params.height),
    likelyRegion ? await deps.catalog.gpuPricePerHourMicrousd(likelyRegion.name) : null,
  );

  const { generation, created } = await insertGeneration(deps.db, {
    accountId,
    projectId: request.project ?? null,
    apiKeyId: caller.apiKey.id,
    modelVersionId: resolved.version.id,
    model: resolved.model.name,
    modelVersion: resolved.version.version,
    prompt: request.prompt,
    negativePrompt: request.negative_prompt ?? null,
    params,
    metadata: request.metadata ?? {},
    status: "queued",
    createdAt: new Date(deps.clock()),
    costEstimatedMicrousd: estimate,
    idempotencyKey: idempotencyKey ?? null,
    requestHash: idempotencyKey === undefined ? null : requestHash,
    style: request.style ?? null,
    webhook: request.webhook ?? null,
    requestId: input.requestId,
  });
  // A concurrent request with the same key won the insert.
  if (!created) return replay(generation, requestHash);

  const { row, result } = await dispatchGeneration(
    {
      row: generation,
      attempt: 1,
      from: input.client,
      callbackBase: input.callbackBase,
      gpuMsPerMegapixel,
    },
    deps,
  );
  if (result.kind === "exhausted") {
    throw new ApiError({
      type: "overloaded_error",
      code: "no_region_available",
      message: "no region can take the job right now; retry later",
      headers: { "Retry-After": String(result.retryAfterS) },
    });
  }
  if (result.kind === "rejected") {
    throw new ApiError({
      type: "api_error",
      code: "region_rejected_job",
      message: `generation ${row.id} failed: a region refused the job`,
    });
  }
  return { row, replayed: false };
}

function replay(earlier: GenerationRow, requestHash: string): CreateGenerationResult {
  if (earlier.requestHash !== requestHash) {
    throw new ApiError({
      type: "idempotency_error",
      code: "idempotency_key_reused",
      message: "this Idempotency-Key was used with a different request body",
    });
  }
  return { row: earlier, replayed: true };
}

/** JSON with sorted keys: the same request hashes the same whatever its key order or spacing. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
