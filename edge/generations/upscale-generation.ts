import { SIDE, type UpscaleRequest } from "../../contracts/api.ts";
import { UpscaleMethod } from "../../contracts/model-manifest.ts";
import type { GenerationDerivation } from "../../db/schema/generations.ts";
import { signedAssetPath } from "../assets/asset-url.ts";
import { ApiError, invalidRequest } from "../errors/index.ts";
import { readableGeneration } from "../search/readable-generation.ts";
import {
  createChildGeneration,
  type ChildGenerationInput,
  type ChildGenerationResult,
} from "./create-child-generation.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { resolveModelVersion } from "./model-version-cache.ts";

// POST /v1/generations/:id/upscale: a child generation `factor` times larger on each side. A
// resolution-independent model (manifest `upscale: "rerender"`, the CPPN) draws the same latent
// again at the larger size: new detail, the same picture, and byte-identical to a request for that
// size. Other models resample the parent's image with Lanczos-3 at the region. Priced like any
// render (per output megapixel) and bounded by the plan's maximum pixels.

export interface UpscaleInput extends Omit<
  ChildGenerationInput,
  "parent" | "changes" | "derivation"
> {
  generationId: string;
  request: UpscaleRequest;
}

export interface UpscaleDeps extends GenerationFlowDeps {
  /** Signs the parent's asset URL a resampling region reads it from. */
  assetUrlSecret: string;
}

export async function upscaleGeneration(
  input: UpscaleInput,
  deps: UpscaleDeps,
): Promise<ChildGenerationResult> {
  const { generationId, request, ...rest } = input;
  const { factor } = request;
  const { row: parent } = await readableGeneration(
    deps.db,
    input.caller.account.id,
    generationId,
    "id",
  );
  if (parent.status !== "succeeded" || parent.assetKey === null || parent.outputSha256 === null) {
    throw new ApiError({
      type: "invalid_request_error",
      code: "generation_not_succeeded",
      message: `generation ${parent.id} is ${parent.status}: only a finished image can be upscaled`,
      status: 409,
    });
  }
  const width = parent.params.width * factor;
  const height = parent.params.height * factor;
  const resolved = await resolveModelVersion(
    deps.db,
    parent.model,
    parent.modelVersion,
    deps.clock(),
    parent.accountId,
  );
  const limits = resolved?.version.manifest.limits as { max_side?: number } | undefined;
  const maxSide = Math.min(SIDE.max, limits?.max_side ?? SIDE.max);
  if (width > maxSide || height > maxSide) {
    throw invalidRequest(
      "upscale_too_large",
      `${parent.params.width}x${parent.params.height} x${factor} is ${width}x${height}; sides are at most ${maxSide}`,
      "factor",
    );
  }
  const method = UpscaleMethod.safeParse(resolved?.version.manifest.upscale).data ?? "resample";
  const derivation: GenerationDerivation = { kind: "upscale", factor, method };
  if (method === "resample") {
    const path = await signedAssetPath(parent.assetKey, deps.assetUrlSecret, deps.clock());
    derivation.source = {
      key: parent.assetKey,
      sha256: parent.outputSha256,
      url: input.callbackBase.replace(/\/+$/, "") + path,
    };
  }
  return createChildGeneration({ ...rest, parent, changes: { width, height }, derivation }, deps);
}
