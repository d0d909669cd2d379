import { STYLE_EMBEDDING_DIMS } from "../../../contracts/style.ts";

// Exact nearest neighbours by brute force: the ground truth recall is measured against.

/** Ids (row numbers) of the k rows of unit vectors `matrix` nearest `query` by cosine, among `allowed`. */
export function exactTopK(
  matrix: Float32Array,
  rows: number,
  query: Float32Array,
  k: number,
  allowed?: (row: number) => boolean,
): number[] {
  const best: Array<{ row: number; score: number }> = [];
  let floor = -Infinity;
  for (let row = 0; row < rows; row++) {
    if (allowed && !allowed(row)) continue;
    const o = row * STYLE_EMBEDDING_DIMS;
    let dot = 0;
    for (let i = 0; i < STYLE_EMBEDDING_DIMS; i++) dot += matrix[o + i]! * query[i]!;
    if (best.length < k || dot > floor) {
      best.push({ row, score: dot });
      best.sort((a, b) => b.score - a.score);
      if (best.length > k) best.pop();
      floor = best.at(-1)!.score;
    }
  }
  return best.map((b) => b.row);
}

/** Share of `truth` found in `found`. */
export const recall = (found: readonly number[], truth: readonly number[]) =>
  truth.length === 0 ? 1 : truth.filter((t) => found.includes(t)).length / truth.length;
