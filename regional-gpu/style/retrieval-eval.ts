// Retrieval quality of embeddings on a labelled set: every item queries all the others by cosine
// similarity; an item of the same label is relevant.

export interface RetrievalReport {
  items: number;
  /** Mean share of relevant items among each query's k nearest. */
  precisionAtK: Record<number, number>;
  /** Mean average precision over every query's full ranking. */
  meanAveragePrecision: number;
  /** Mean cosine similarity of pairs by relation. */
  similarity: { samePrompt: number; relatedPrompt: number; unrelated: number };
}

export interface EvaluatedItem {
  label: string;
  /** Items with the same group (e.g. prompt) are "same prompt" pairs. */
  group: string;
  vector: ArrayLike<number>;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** `items`' vectors must be unit length (cosine = dot product). */
export function evaluateRetrieval(
  items: readonly EvaluatedItem[],
  ks: readonly number[] = [1, 5],
): RetrievalReport {
  const precision = new Map(ks.map((k) => [k, [] as number[]]));
  const averagePrecisions: number[] = [];
  const pairs = {
    samePrompt: [] as number[],
    relatedPrompt: [] as number[],
    unrelated: [] as number[],
  };
  items.forEach((query, q) => {
    const ranked = items
      .map((item, i) => ({ item, i, score: dot(query.vector, item.vector) }))
      .filter(({ i }) => i !== q)
      .sort((x, y) => y.score - x.score || x.i - y.i);
    for (const { item, score } of ranked) {
      const kind =
        item.group === query.group
          ? "samePrompt"
          : item.label === query.label
            ? "relatedPrompt"
            : "unrelated";
      pairs[kind].push(score);
    }
    const relevant = ranked.map(({ item }) => item.label === query.label);
    for (const k of ks) precision.get(k)!.push(relevant.slice(0, k).filter(Boolean).length / k);
    let hits = 0;
    const precisions: number[] = [];
    relevant.forEach((isRelevant, rank) => {
      if (!isRelevant) return;
      hits += 1;
      precisions.push(hits / (rank + 1));
    });
    averagePrecisions.push(mean(precisions));
  });
  return {
    items: items.length,
    precisionAtK: Object.fromEntries(ks.map((k) => [k, mean(precision.get(k)!)])),
    meanAveragePrecision: mean(averagePrecisions),
    similarity: {
      samePrompt: mean(pairs.samePrompt),
      relatedPrompt: mean(pairs.relatedPrompt),
      unrelated: mean(pairs.unrelated),
    },
  };
}
