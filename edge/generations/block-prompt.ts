import type { CreateGenerationRequest } from "../../contracts/api.ts";
import { newId } from "../../contracts/ids.ts";
import { insertGeneration } from "../../db/queries/generations.ts";
import { insertModerationEvent } from "../../db/queries/moderation-events.ts";
import type { ResolvedModelVersion } from "../../db/queries/models.ts";
import type { GenerationParams, GenerationRow } from "../../db/schema/generations.ts";
import { admitGeneration } from "../limits/admission.ts";
import type { Caller } from "../middleware/auth/index.ts";
import type { PromptVerdict } from "../moderation/moderate-prompt.ts";
import { blockedMessage, policyMatchesOf, PROMPT_BLOCKED } from "../moderation/prompt-policy.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { endGeneration } from "./transitions.ts";

export interface BlockedPromptInput {
  caller: Caller;
  request: CreateGenerationRequest;
  resolved: ResolvedModelVersion;
  params: GenerationParams;
  verdict: PromptVerdict;
  idempotencyKey: string | undefined;
  requestHash: string;
  requestId: string;
  callbackBase: string;
}

/**
 * Records a request whose prompt moderation blocked: a generation, written finished `blocked` (so
 * the caller sees the attempt in their list, and an Idempotency-Key replay answers the same), and a
 * moderation event, in the transaction of the one owner of terminal transitions (its webhook
 * message commits with them). It costs a rate-limit token (probing the filter is not
 * free) but no concurrency slot, no reservation and no GPU work.
 * `created: false`: the Idempotency-Key already named another generation, which is returned.
 */
export async function recordBlockedPrompt(
  input: BlockedPromptInput,
  deps: GenerationFlowDeps,
): Promise<{ row: GenerationRow; created: boolean; headers: Record<string, string> }> {
  const { caller, request, verdict } = input;
  const id = newId("generation");
  const headers = await admitGeneration(
    {
      accountId: caller.account.id,
      plan: caller.plan,
      generationId: id,
      reserveMicrousd: 0,
      slot: false,
    },
    deps,
  );
  const now = new Date(deps.clock());
  const matches = policyMatchesOf(verdict);
  let written: { generation: GenerationRow; created: boolean } | undefined;
  await endGeneration(
    async (tx) => {
      written = await insertGeneration(tx, {
        id,
        accountId: caller.account.id,
        projectId: request.project ?? null,
        apiKeyId: caller.apiKey.id,
        modelVersionId: input.resolved.version.id,
        model: input.resolved.model.name,
        modelVersion: input.resolved.version.version,
        prompt: request.prompt,
        negativePrompt: request.negative_prompt ?? null,
        params: input.params,
        metadata: request.metadata ?? {},
        status: "blocked",
        createdAt: now,
        completedAt: now,
        costEstimatedMicrousd: 0,
        idempotencyKey: input.idempotencyKey ?? null,
        requestHash: input.idempotencyKey === undefined ? null : input.requestHash,
        style: request.style ?? null,
        webhook: request.webhook ?? null,
        requestId: input.requestId,
        error: {
          type: "content_policy_violation",
          code: PROMPT_BLOCKED,
          message: blockedMessage(verdict),
          categories: verdict.categories,
          matches,
        },
        moderation: {
          prompt: { action: "block", categories: verdict.categories },
          prompt_strictness: verdict.strictness,
        },
      });
      const { generation, created } = written;
      if (!created) return null;
      await insertModerationEvent(tx, {
        accountId: caller.account.id,
        projectId: request.project ?? null,
        generationId: generation.id,
        stage: "prompt",
        action: "block",
        categories: verdict.categories,
        scores: severityByCategory(verdict),
        matched: verdict.found.map(({ category, term, level, start, end, text }) => ({
          category,
          term,
          level,
          start,
          end,
          text,
        })),
      });
      return generation;
    },
    input.callbackBase,
    deps,
  );
  const { generation: row, created } = written!;
  if (!created) return { row, created, headers };
  deps.log({
    level: "info",
    msg: "prompt blocked",
    generation_id: row.id,
    request_id: input.requestId,
    categories: verdict.categories,
    strictness: verdict.strictness,
  });
  return { row, created, headers };
}

/** The highest level found per category (0 for minors context). */
function severityByCategory(verdict: PromptVerdict): Record<string, number> {
  const scores: Record<string, number> = {};
  for (const m of verdict.found) scores[m.category] = Math.max(scores[m.category] ?? 0, m.level);
  return scores;
}
