import {
  ModerationCategory,
  ModerationPolicy,
  type ModerationStrictness,
  type SafetyScores,
} from "../../contracts/region-protocol.ts";

// Turns classifier scores into a verdict under a project's policy. A category blocks when its score
// reaches its threshold. "sexy" (suggestive, not explicit) blocks at a higher bar than porn and hentai,
// and never under relaxed. Under strict the fast screen's verdict stands (a false positive costs less
// than a miss there); otherwise a flag is re-judged by the confirming classifier.

export type Thresholds = Record<ModerationCategory, number | null>;

export const STRICTNESS_THRESHOLDS: Record<ModerationStrictness, Thresholds> = {
  strict: { porn: 0.2, hentai: 0.3, sexy: 0.4 },
  standard: { porn: 0.5, hentai: 0.6, sexy: 0.85 },
  relaxed: { porn: 0.8, hentai: 0.9, sexy: null },
};

export const DEFAULT_POLICY: ModerationPolicy = ModerationPolicy.parse({});

export interface Verdict {
  blocked: boolean;
  /** Categories whose score reached their threshold, highest score first. */
  categories: ModerationCategory[];
  scores: SafetyScores;
  thresholds: Thresholds;
}

export function thresholdsOf(policy: ModerationPolicy = DEFAULT_POLICY): Thresholds {
  const base = STRICTNESS_THRESHOLDS[policy.strictness];
  return { ...base, ...policy.thresholds };
}

/** Whether a flag from the screen is re-judged by the confirming classifier. */
export const confirmsFlags = (policy: ModerationPolicy = DEFAULT_POLICY): boolean =>
  policy.strictness !== "strict";

export function judge(scores: SafetyScores, policy: ModerationPolicy = DEFAULT_POLICY): Verdict {
  const thresholds = thresholdsOf(policy);
  const categories = ModerationCategory.options
    .filter((c) => {
      const threshold = thresholds[c];
      return threshold !== null && scores[c] >= threshold;
    })
    .sort((a, b) => scores[b] - scores[a]);
  return { blocked: categories.length > 0, categories, scores, thresholds };
}
