import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STYLE_MODEL_VERSION } from "../model-build/build-reference-model.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import { openReferencePipeline, type OpenPipeline } from "../testing/reference-pipeline.ts";
import { labelledSet } from "./labelled-set.ts";
import { evaluateRetrieval } from "./retrieval-eval.ts";
import { STYLE_EMBEDDING_DIMS, styleEmbedding } from "./style-descriptor.ts";

// The style embedding on real renders of the reference model, and on a labelled set the project
// renders itself (themes of related prompts x seeds): nearest neighbours share a theme.

let open: OpenPipeline;
beforeAll(async () => {
  open = await openReferencePipeline(STYLE_MODEL_VERSION);
}, 180_000);
afterAll(async () => {
  await open?.close();
});

const draw = async (prompt: string, seed: number, side = 128) =>
  (await open.pipeline.run([{ prompt, seed, width: side, height: side }]))[0]!;
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const flat = (rgb: [number, number, number], side = 64): RawImage => ({
  width: side,
  height: side,
  channels: 3,
  data: Uint8Array.from({ length: side * side * 3 }, (_, i) => rgb[i % 3]!),
});

describe("style embedding", () => {
  it("is a deterministic unit vector of at most 256 float32 values", async () => {
    const image = await draw("a quiet harbour at dawn, teal and amber", 42);
    const a = styleEmbedding(image);
    const b = styleEmbedding({ ...image, data: Uint8Array.from(image.data) });
    expect(a).toHaveLength(STYLE_EMBEDDING_DIMS);
    expect(STYLE_EMBEDDING_DIMS).toBeLessThanOrEqual(256);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Math.hypot(...a)).toBeCloseTo(1, 6);
    // A flat image (no gradients at all) still gives a finite unit vector.
    const grey = styleEmbedding(flat([128, 128, 128]));
    expect(grey.every(Number.isFinite)).toBe(true);
    expect(Math.hypot(...grey)).toBeCloseTo(1, 6);
  });

  it("reads colour: flat images of different hues are far apart, of one hue close", () => {
    const red = styleEmbedding(flat([200, 30, 40]));
    const darkerRed = styleEmbedding(flat([185, 28, 38]));
    const teal = styleEmbedding(flat([0, 128, 128]));
    expect(cosine(red, darkerRed)).toBeGreaterThan(0.95);
    expect(cosine(red, teal)).toBeLessThan(cosine(red, darkerRed) - 0.3);
  });

  it("barely changes with the size of the same picture (a re-drawn upscale)", async () => {
    const small = await draw("green mossy forest", 5, 256);
    const large = await draw("green mossy forest", 5, 1024);
    const other = await draw("neon city at night", 5, 256);
    const smallVector = styleEmbedding(small);
    expect(cosine(smallVector, styleEmbedding(large))).toBeGreaterThan(0.98);
    expect(cosine(smallVector, styleEmbedding(other))).toBeLessThan(0.9);
  });

  it("retrieves a theme's images first on the labelled set (precision@k, mAP)", async () => {
    const set = labelledSet();
    const images = await open.pipeline.run(
      set.map(({ prompt, seed }) => ({ prompt, seed, width: 128, height: 128 })),
    );
    const report = evaluateRetrieval(
      set.map((item, i) => ({
        label: item.theme,
        group: item.prompt,
        vector: styleEmbedding(images[i]!),
      })),
      [1, 5, 8],
    );
    // 12 themes x 3 prompts x 3 seeds; 8 relevant images per query, chance precision is 8/107.
    expect(report.items).toBe(108);
    expect(report.precisionAtK[1]).toBeGreaterThan(0.9);
    expect(report.precisionAtK[5]).toBeGreaterThan(0.6);
    expect(report.meanAveragePrecision).toBeGreaterThan(0.55);
    const { samePrompt, relatedPrompt, unrelated } = report.similarity;
    expect(samePrompt).toBeGreaterThan(relatedPrompt);
    expect(relatedPrompt).toBeGreaterThan(unrelated + 0.1);
  });
});
