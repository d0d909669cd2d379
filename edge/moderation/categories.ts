import { z } from "zod";

/** What prompt moderation looks for. `minors` alone is context, never a reason to block. */
export const PromptCategory = z.enum([
  "sexual",
  "minors",
  "violence",
  "hate",
  "self_harm",
  "protected_ip",
  "profanity",
]);
export type PromptCategory = z.infer<typeof PromptCategory>;

/** How far a project lets prompts go; `standard` without a project or setting. */
export const Strictness = z.enum(["relaxed", "standard", "strict"]);
export type Strictness = z.infer<typeof Strictness>;

/**
 * Severity of a term: 0 context only (minors), 1 blocked under `strict`, 2 also under
 * `standard`, 3 under every strictness.
 */
export type Level = 0 | 1 | 2 | 3;

/** The lowest level a strictness blocks. */
export const BLOCK_LEVEL: Record<Strictness, Level> = { strict: 1, standard: 2, relaxed: 3 };
