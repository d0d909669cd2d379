import type { FeedbackSignal } from "../../edge/feedback/signals.ts";

// Engagement score of an output, pure (docs/flywheel.md, "Curation"): each signal weighted by its
// giver's fraud weight; downloads by accounts other than the owner add a little.

export const SCORING = {
  like: 1,
  refine: 1,
  download: 0.25,
  dislike: -1,
  report: -2,
} as const;

export interface OutputScore {
  score: number;
  likes: number;
  dislikes: number;
  reports: number;
  refines: number;
  downloads: number;
  /** Signals (votes and refines) that entered the score. */
  signals: number;
}

export const emptyScore = (): OutputScore => ({
  score: 0,
  likes: 0,
  dislikes: 0,
  reports: 0,
  refines: 0,
  downloads: 0,
  signals: 0,
});

/** Adds one signal that counts for training to `into`. */
export function addSignal(
  into: OutputScore,
  signal: Pick<FeedbackSignal, "kind" | "weight">,
): void {
  const w = signal.weight;
  into.signals++;
  into.score += SCORING[signal.kind] * w;
  if (signal.kind === "like") into.likes += w;
  else if (signal.kind === "dislike") into.dislikes += w;
  else if (signal.kind === "report") into.reports += w;
  else into.refines += w;
}

export function addDownloads(into: OutputScore, downloads: number): void {
  into.downloads += downloads;
  into.score += SCORING.download * downloads;
}

export interface Scored {
  id: string;
  score: number;
}

/** Max pairs taken from one prompt's outputs (the widest score gaps first). */
export const MAX_PAIRS_PER_PROMPT = 40;

/**
 * Preference pairs among outputs of one prompt: every two with different scores (chosen = the
 * higher), ties dropped; the widest gaps first, then by ids, capped at MAX_PAIRS_PER_PROMPT.
 */
export function pairsOf<T extends Scored>(
  outputs: readonly T[],
): { pairs: Array<{ chosen: T; rejected: T }>; ties: number } {
  const sorted = [...outputs].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  const pairs: Array<{ chosen: T; rejected: T; gap: number }> = [];
  let ties = 0;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const [a, b] = [sorted[i]!, sorted[j]!];
      if (Math.abs(a.score - b.score) < 1e-9) ties++;
      else pairs.push({ chosen: a, rejected: b, gap: a.score - b.score });
    }
  }
  pairs.sort(
    (x, y) =>
      y.gap - x.gap ||
      (x.chosen.id < y.chosen.id ? -1 : x.chosen.id > y.chosen.id ? 1 : 0) ||
      (x.rejected.id < y.rejected.id ? -1 : 1),
  );
  return {
    pairs: pairs
      .slice(0, MAX_PAIRS_PER_PROMPT)
      .map(({ chosen, rejected }) => ({ chosen, rejected })),
    ties,
  };
}
