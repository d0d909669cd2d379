import { describe, expect, it } from "vitest";
import { SeededRandom } from "../pipelines/seeded-random.ts";
import { buildEmbeddingTable, quantizeTable, unitRow } from "./embedding-table.ts";
import type { WordVectors } from "./word-vectors.ts";

const DIMS = 8;
const WORDS = 200;

/** Random vectors sharing a strong common direction, like raw GloVe. */
function source(): WordVectors {
  const random = new SeededRandom(11);
  const common = Array.from({ length: DIMS }, () => random.nextNormal());
  const vectors = new Float32Array(WORDS * DIMS);
  for (let w = 0; w < WORDS; w++) {
    const strength = 3 + random.nextNormal();
    for (let d = 0; d < DIMS; d++)
      vectors[w * DIMS + d] = strength * common[d]! + random.nextNormal();
  }
  return {
    dims: DIMS,
    words: Array.from({ length: WORDS }, (_, i) => `w${i}`),
    ranks: Uint32Array.from({ length: WORDS }, (_, i) => i * 3),
    sourceSize: WORDS * 3,
    vectors,
  };
}

const row = (v: Float64Array, r: number) => Array.from(v.subarray(r * DIMS, (r + 1) * DIMS));
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe("buildEmbeddingTable", () => {
  const table = buildEmbeddingTable(source(), { sifA: 1e-3, removeComponents: 1 });

  it("keeps row 0 as an all-zero, zero-weight padding row", () => {
    expect(table.rows).toBe(WORDS + 1);
    expect(row(table.vectors, 0).every((x) => x === 0)).toBe(true);
    expect(table.weights[0]).toBe(0);
  });

  it("centers the vectors and removes their common direction", () => {
    for (let d = 0; d < DIMS; d++) {
      let sum = 0;
      for (let r = 1; r < table.rows; r++) sum += table.vectors[r * DIMS + d]!;
      expect(Math.abs(sum / WORDS)).toBeLessThan(1e-9);
    }
    // What is left has no dominant direction: the largest share of variance on one axis is small.
    const rows = Array.from({ length: WORDS }, (_, i) => row(table.vectors, i + 1));
    const norms = rows.map((r) => Math.sqrt(dot(r, r)));
    const meanCos =
      rows
        .slice(1)
        .reduce((s, r, i) => s + Math.abs(dot(r, rows[0]!)) / (norms[i + 1]! * norms[0]!), 0) /
      (WORDS - 1);
    expect(meanCos).toBeLessThan(0.45);
  });

  it("weights frequent words down (SIF)", () => {
    for (let r = 2; r < table.rows; r++)
      expect(table.weights[r]!).toBeGreaterThan(table.weights[r - 1]!);
    expect(table.weights[1]!).toBeLessThan(0.1);
    expect(table.weights[table.rows - 1]!).toBeGreaterThan(0.5);
  });

  it("quantizes to int8 within half a step per value", () => {
    const q = quantizeTable(table);
    for (let r = 1; r < table.rows; r++) {
      for (let d = 0; d < DIMS; d++) {
        const restored = q.values[r * DIMS + d]! * q.scale[r]!;
        expect(Math.abs(restored - table.vectors[r * DIMS + d]!)).toBeLessThanOrEqual(
          q.scale[r]! / 2 + 1e-6,
        );
      }
    }
    expect(q.weights[0]).toBe(0);
    expect(unitRow(table, 5).reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 12);
    expect(() => unitRow(table, 0)).toThrow(/zero/);
  });
});
