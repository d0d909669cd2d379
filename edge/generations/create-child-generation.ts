import type { CreateGenerationRequest } from "../../contracts/api.ts";
import type {
  GenerationDerivation,
  GenerationRow,
  GenerationStyle,
} from "../../db/schema/generations.ts";
import {
  createGeneration,
  type CreateGenerationInput,
  type CreateGenerationResult,
} from "./create-generation.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";

// A new generation made from an existing one (an upscale, a refine): the parent's
// prompt, negative prompt, seed, pinned model version, lane and resolved style, with the child's
// changes on top, through the same path as any request (moderation, plan, pricing, limits, dedup,
// dispatch), recorded with `parent_id`.

/** A child generation created, or the one an Idempotency-Key replay answers. */
export type ChildGenerationResult = Extract<CreateGenerationResult, { row: GenerationRow }>;

export interface ChildGenerationInput extends Omit<CreateGenerationInput, "request" | "parent"> {
  /** A succeeded generation the caller may read (its own, or a public one). */
  parent: GenerationRow;
  /** What the child changes (e.g. its size). */
  changes: Partial<
    Pick<CreateGenerationRequest, "width" | "height" | "prompt" | "negative_prompt" | "seed">
  >;
  derivation: GenerationDerivation;
  /** The child's style; default: the parent's (a refine takes the parent as its reference). */
  style?: GenerationStyle | null;
}

export async function createChildGeneration(
  input: ChildGenerationInput,
  deps: GenerationFlowDeps,
): Promise<ChildGenerationResult> {
  const { parent, changes, derivation, style = parent.style, ...rest } = input;
  const { plan, account } = input.caller;
  const lane = parent.params.priority;
  const request: CreateGenerationRequest = {
    prompt: parent.prompt,
    ...(parent.negativePrompt !== null && { negative_prompt: parent.negativePrompt }),
    // The same version: the same weights draw the same picture.
    model: `${parent.model}@${parent.modelVersion}`,
    width: parent.params.width,
    height: parent.params.height,
    seed: parent.params.seed,
    ...(plan.lanes.includes(lane) && { priority: lane }),
    // Filed under the parent's project only when the caller owns it.
    ...(parent.accountId === account.id &&
      parent.projectId !== null && { project: parent.projectId }),
    ...changes,
  };
  const result = await createGeneration(
    { ...rest, request, parent: { id: parent.id, style, derivation } },
    deps,
  );
  // The request above never asks for a dry run.
  if (result.estimate) throw new Error("a child generation was answered with an estimate");
  return result;
}
