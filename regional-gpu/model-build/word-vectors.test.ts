import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readWordVectors } from "./word-vectors.ts";

// A file in the package's layout: header, the word list, then vectors in frequency order with
// [...dims, l2 norm, rank] rows. Tricky keys (quotes, backslashes, "vectors") are included on purpose.
function winkFile(entries: [string, number[]][], rankOf = (index: number) => index): string {
  const dims = 2;
  const vectors = Object.fromEntries(
    entries.map(([word, v], index) => [word, [...v, Math.hypot(...v), rankOf(index)]]),
  );
  const header = { precision: 8, l2NormIndex: dims, wordIndex: dims + 1, size: entries.length };
  return JSON.stringify({
    ...header,
    dimensions: dims,
    words: entries.map(([w]) => w),
    vectors,
    unkVector: new Array(dims + 2).fill(0),
  });
}

const ENTRIES: [string, number[]][] = [
  ["the", [1, 0]],
  [",", [0, 1]],
  ['"', [0.5, 0.5]],
  ["vectors", [2, 2]],
  ["a\\b", [3, 3]],
  ["red", [-1, 0.25]],
  ["sea", [0.125, -2]],
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "word-vectors-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readWordVectors", () => {
  it("reads accepted words in frequency order with their source ranks", async () => {
    const path = join(dir, "small.json");
    await writeFile(path, winkFile(ENTRIES));
    const progress: number[] = [];
    const result = await readWordVectors({
      path,
      limit: 4,
      accept: (w) => /^[a-z]+$/.test(w),
      onProgress: (f) => progress.push(f),
    });
    expect(result.words).toEqual(["the", "vectors", "red", "sea"]);
    expect(Array.from(result.ranks)).toEqual([0, 3, 5, 6]);
    expect(Array.from(result.vectors)).toEqual([1, 0, 2, 2, -1, 0.25, 0.125, -2]);
    expect(result.dims).toBe(2);
    expect(result.sourceSize).toBe(ENTRIES.length);
    expect(progress.at(-1)).toBe(1);
  });

  it("fails when the source has fewer accepted words than asked", async () => {
    const path = join(dir, "short.json");
    await writeFile(path, winkFile(ENTRIES));
    await expect(readWordVectors({ path, limit: 10, accept: () => true })).rejects.toThrow(
      /fewer words/,
    );
  });

  it("fails when rows are not in frequency order (the early stop would be wrong)", async () => {
    const path = join(dir, "shuffled.json");
    await writeFile(
      path,
      winkFile(ENTRIES, (i) => (i === 5 ? 9 : i)),
    );
    await expect(readWordVectors({ path, limit: 6, accept: () => true })).rejects.toThrow(
      /out of frequency order/,
    );
  });

  it("reads the installed package: GloVe's most frequent words first", async () => {
    const result = await readWordVectors({ limit: 50, accept: (w) => /^[a-z]+$/.test(w) });
    expect(result.dims).toBe(100);
    expect(result.words.slice(0, 4)).toEqual(["the", "of", "to", "and"]);
    expect(result.vectors).toHaveLength(50 * 100);
    expect(result.sourceSize).toBeGreaterThan(300_000);
  });
});
