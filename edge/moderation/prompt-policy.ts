import type { PolicyMatch } from "../../contracts/errors.ts";
import type { GenerationModeration, GenerationRow } from "../../db/schema/generations.ts";
import type { Project } from "../../db/schema/projects.ts";
import { ApiError } from "../errors/index.ts";
import { Strictness } from "./categories.ts";
import type { PromptVerdict } from "./moderate-prompt.ts";

/** The code of a generation (and of the 422) whose prompt moderation refused. */
export const PROMPT_BLOCKED = "prompt_blocked";

/** A project's prompt strictness (its moderation policy's `strictness`); standard otherwise. */
export function promptStrictnessOf(project: Project | null): Strictness {
  const parsed = Strictness.safeParse(project?.moderationPolicy.strictness);
  return parsed.success ? parsed.data : "standard";
}

/** The verdict's matches as the public API shows them. */
export function policyMatchesOf(verdict: PromptVerdict): PolicyMatch[] {
  return verdict.matches.map((m) => ({
    param: "prompt",
    category: m.category,
    start: m.start,
    end: m.end,
    text: m.text,
  }));
}

/** What a generation row keeps of an allowed prompt's verdict: flags only (null when clean). */
export function promptModerationOf(verdict: PromptVerdict): GenerationModeration | null {
  if (verdict.action !== "flag") return null;
  return {
    prompt: { action: "flag", categories: verdict.categories },
    prompt_strictness: verdict.strictness,
    prompt_matches: policyMatchesOf(verdict),
  };
}

export function isPromptBlocked(row: GenerationRow): boolean {
  return row.status === "blocked" && row.error?.code === PROMPT_BLOCKED;
}

/** The 422 for a generation whose prompt was blocked: the first answer and every replay. */
export function promptBlockedError(
  row: GenerationRow,
  headers: Record<string, string> = {},
): ApiError {
  return new ApiError({
    type: "content_policy_violation",
    code: PROMPT_BLOCKED,
    message: row.error?.message ?? "the prompt was blocked by content policy",
    param: "prompt",
    categories: row.error?.categories ?? [],
    matches: row.error?.matches ?? [],
    generation: row.id,
    headers,
  });
}

export function blockedMessage(verdict: PromptVerdict): string {
  const spans = verdict.matches.map((m) => `"${m.text}" (${m.category})`).join(", ");
  return `the prompt was blocked by content policy: ${verdict.categories.join(", ")}; matched ${spans}`;
}
