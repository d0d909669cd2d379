import type { WordVectors } from "./word-vectors.ts";

// Turns raw GloVe rows into the table the model gathers from. Raw GloVe vectors share a large common
// direction, so every prompt's mean looks alike; centering, removing the top principal components
// ("all-but-the-top", Mu & Viswanath 2018) and weighting words by smooth inverse frequency (SIF, Arora
// et al. 2017) make prompt means differ by content words, not by "the" and "over".

export interface EmbeddingTableOptions {
  /** SIF constant a: weight = a / (a + p(word)), with p from Zipf's law over the source ranks. */
  sifA: number;
  /** How many top principal components to remove. */
  removeComponents: number;
}

export interface EmbeddingTable {
  readonly dims: number;
  /** Row 0 is padding/unknown; row i + 1 is words[i]. */
  readonly rows: number;
  /** Processed vectors, rows x dims (row 0 zero). */
  readonly vectors: Float64Array;
  /** SIF weight per row (row 0 zero). */
  readonly weights: Float64Array;
}

export interface QuantizedTable {
  /** rows x dims, symmetric per-row int8. */
  readonly values: Int8Array;
  /** Per-row dequantization scale. */
  readonly scale: Float32Array;
  /** Per-row SIF weight (row 0, padding, is 0). */
  readonly weights: Float32Array;
}

const POWER_ITERATIONS = 300;

function topComponent(vectors: Float64Array, rows: number, dims: number): Float64Array {
  // Upper triangle of the (uncentered: the rows are already centered) covariance, then mirrored.
  const cov = new Float64Array(dims * dims);
  for (let r = 1; r < rows; r++) {
    const row = vectors.subarray(r * dims, (r + 1) * dims);
    for (let a = 0; a < dims; a++) {
      const va = row[a]!;
      const base = a * dims;
      for (let b = a; b < dims; b++) cov[base + b]! += va * row[b]!;
    }
  }
  for (let a = 0; a < dims; a++) for (let b = 0; b < a; b++) cov[a * dims + b] = cov[b * dims + a]!;
  let u = new Float64Array(dims).fill(1 / Math.sqrt(dims));
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    const next = new Float64Array(dims);
    for (let a = 0; a < dims; a++) {
      let sum = 0;
      for (let b = 0; b < dims; b++) sum += cov[a * dims + b]! * u[b]!;
      next[a] = sum;
    }
    const norm = Math.sqrt(next.reduce((s, x) => s + x * x, 0));
    u = next.map((x) => x / norm);
  }
  return u;
}

export function buildEmbeddingTable(
  source: WordVectors,
  options: EmbeddingTableOptions,
): EmbeddingTable {
  const { dims } = source;
  const rows = source.words.length + 1;
  const vectors = new Float64Array(rows * dims);
  vectors.set(source.vectors, dims);

  const mean = new Float64Array(dims);
  for (let r = 1; r < rows; r++) for (let d = 0; d < dims; d++) mean[d]! += vectors[r * dims + d]!;
  for (let d = 0; d < dims; d++) mean[d]! /= rows - 1;
  for (let r = 1; r < rows; r++) for (let d = 0; d < dims; d++) vectors[r * dims + d]! -= mean[d]!;

  for (let c = 0; c < options.removeComponents; c++) {
    const u = topComponent(vectors, rows, dims);
    for (let r = 1; r < rows; r++) {
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += vectors[r * dims + d]! * u[d]!;
      for (let d = 0; d < dims; d++) vectors[r * dims + d]! -= dot * u[d]!;
    }
  }

  // Zipf: p(rank) = 1 / ((rank + 1) * H), H the harmonic number of the source size.
  const harmonic = Math.log(source.sourceSize) + 0.5772156649;
  const weights = new Float64Array(rows);
  for (let r = 1; r < rows; r++) {
    const p = 1 / ((source.ranks[r - 1]! + 1) * harmonic);
    weights[r] = options.sifA / (options.sifA + p);
  }
  return { dims, rows, vectors, weights };
}

export function quantizeTable(table: EmbeddingTable): QuantizedTable {
  const { rows, dims } = table;
  const values = new Int8Array(rows * dims);
  const scale = new Float32Array(rows);
  for (let r = 1; r < rows; r++) {
    let max = 0;
    for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs(table.vectors[r * dims + d]!));
    const step = max > 0 ? max / 127 : 1;
    for (let d = 0; d < dims; d++)
      values[r * dims + d] = Math.round(table.vectors[r * dims + d]! / step);
    scale[r] = step;
  }
  return { values, scale, weights: Float32Array.from(table.weights) };
}

/** Unit-length processed vector of one row. */
export function unitRow(table: EmbeddingTable, row: number): Float64Array {
  const v = table.vectors.slice(row * table.dims, (row + 1) * table.dims);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  if (norm === 0) throw new Error(`embedding row ${row} is zero`);
  return v.map((x) => x / norm);
}
