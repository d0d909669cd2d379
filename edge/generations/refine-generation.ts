import type { RefineRequest } from "../../contracts/api.ts";
import type { GenerationStyle } from "../../db/schema/generations.ts";
import { feedbackTarget, requireOutput } from "../feedback/feedback-target.ts";
import {
  createChildGeneration,
  type ChildGenerationInput,
  type ChildGenerationResult,
} from "./create-child-generation.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import type { ResolvedModelVersion } from "../../db/queries/models.ts";
import { ApiError } from "../errors/index.ts";
import { resolveModelVersion } from "./model-version-cache.ts";
import { resolveStyle, styleSpecOf } from "./resolve-style.ts";

// POST /v1/generations/:id/refine: a child generation (derivation `refine`) of a succeeded output
// of the caller's own or a public one: the parent's request again (prompt, negative prompt, seed,
// size, pinned version, lane) with the caller's changes. Where the version takes a style, the
// parent is its style reference at 1 - strength, so `strength` says how far the result may move.

export interface RefineInput extends Omit<
  ChildGenerationInput,
  "parent" | "changes" | "derivation"
> {
  generationId: string;
  request: RefineRequest;
}

export async function refineGeneration(
  input: RefineInput,
  deps: GenerationFlowDeps,
): Promise<ChildGenerationResult> {
  const { generationId, request, ...rest } = input;
  const { row: parent } = await feedbackTarget(deps.db, input.caller.account.id, generationId);
  requireOutput(parent);
  const resolved = await resolveModelVersion(
    deps.db,
    parent.model,
    parent.modelVersion,
    deps.clock(),
    parent.accountId,
  );
  const strength = request.strength;
  return createChildGeneration(
    {
      ...rest,
      parent,
      changes: {
        ...(request.prompt !== undefined && { prompt: request.prompt }),
        ...(request.negative_prompt !== undefined && { negative_prompt: request.negative_prompt }),
        ...(request.seed !== undefined && { seed: request.seed }),
      },
      derivation: { kind: "refine", strength },
      style: await refineStyle(parent, strength, input.caller.account.id, resolved, deps),
    },
    deps,
  );
}

/** The parent as style reference where the version takes one and the parent has a style vector. */
async function refineStyle(
  parent: ChildGenerationInput["parent"],
  strength: number,
  accountId: string,
  resolved: ResolvedModelVersion | null,
  deps: GenerationFlowDeps,
): Promise<GenerationStyle | null> {
  if (!resolved || !styleSpecOf(resolved)) return parent.style;
  const reference = { reference: parent.id, strength: Math.round((1 - strength) * 1e6) / 1e6 };
  // A parent drawn without a style vector this version can take keeps its own style.
  return resolveStyle(reference, accountId, resolved, deps.db).catch((err: unknown) => {
    if (err instanceof ApiError && err.code === "style_reference_unusable") return parent.style;
    throw err;
  });
}
