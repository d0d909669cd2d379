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
  /**
   * What the output shows: its bytes' sha256 (the generation id when there are no bytes). Orders
   * equal scores and names pairs, so a dataset's pairs and their split hang on the images, never
   * on the random ids the rows happened to get.
   */
  key: string;
  score: number;
}

/** Max pairs taken from one prompt's outputs (the widest score gaps first). */
export const MAX_PAIRS_PER_PROMPT = 40;

/** Orders outputs by what they show, then by id. */
export const byKey = (a: Omit<Scored, "score">, b: Omit<Scored, "score">) =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/**
 * Preference pairs among outputs of one prompt: every two with different scores (chosen = the
 * higher), ties dropped (two outputs with the same bytes count as a tie: no preference between
 * images can be read from them), one pair per two images; the widest gaps first, then by keys,
 * capped at MAX_PAIRS_PER_PROMPT.
 */
export function pairsOf<T extends Scored>(
  outputs: readonly T[],
): { pairs: Array<{ chosen: T; rejected: T }>; ties: number } {
  const sorted = [...outputs].sort((a, b) => b.score - a.score || byKey(a, b));
  const pairs: Array<{ chosen: T; rejected: T; gap: number }> = [];
  let ties = 0;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const [a, b] = [sorted[i]!, sorted[j]!];
      if (Math.abs(a.score - b.score) < 1e-9 || a.key === b.key) ties++;
      else pairs.push({ chosen: a, rejected: b, gap: a.score - b.score });
    }
  }
  pairs.sort((x, y) => y.gap - x.gap || byKey(x.chosen, y.chosen) || byKey(x.rejected, y.rejected));
  // Two images make one pair: the widest gap between their outputs decides which is chosen.
  const named = new Set<string>();
  const unique = pairs.filter(({ chosen, rejected }) => {
    const name = [chosen.key, rejected.key].sort().join("\u0000");
    if (named.has(name)) return false;
    named.add(name);
    return true;
  });
  return {
    pairs: unique
      .slice(0, MAX_PAIRS_PER_PROMPT)
      .map(({ chosen, rejected }) => ({ chosen, rejected })),
    ties,
  };
}
