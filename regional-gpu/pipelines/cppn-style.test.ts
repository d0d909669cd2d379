import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MODEL_VERSION,
  STYLE_MODEL_VERSION,
  STYLE_SPACE,
} from "../model-build/build-reference-model.ts";
import { STYLE_VECTOR_DIMS } from "../model-build/cppn-design.ts";
import { styleEmbedding } from "../style/style-descriptor.ts";
import { openReferencePipeline, type OpenPipeline } from "../testing/reference-pipeline.ts";
import { PipelineInputError, type ImageRequest, type RawImage } from "./pipeline.ts";

// The style-capable version of the reference model, on the real ONNX Runtime: without a style (or
// at strength 0) it draws exactly what the first version draws; with one, the output moves to the
// reference's look as the strength rises, reaching the reference itself at 1.

let plain: OpenPipeline;
let styled: OpenPipeline;

beforeAll(async () => {
  plain = await openReferencePipeline(MODEL_VERSION);
  styled = await openReferencePipeline(STYLE_MODEL_VERSION);
}, 180_000);
afterAll(async () => {
  await plain?.close();
  await styled?.close();
});

const SIZE = 128;
const draw = (prompt: string, seed: number, extra: Partial<ImageRequest> = {}): ImageRequest => ({
  prompt,
  seed,
  width: SIZE,
  height: SIZE,
  ...extra,
});
const same = (a: RawImage, b: RawImage) => Buffer.from(a.data).equals(Buffer.from(b.data));
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe("cppn-glove with a style input", () => {
  it("declares its style contract; the first version declares none", () => {
    expect(styled.pipeline.manifest.style).toEqual({
      input: "style",
      strength_input: "style_strength",
      output: "style_vector",
      dims: STYLE_VECTOR_DIMS,
      space: STYLE_SPACE,
    });
    expect(plain.pipeline.manifest.style).toBeUndefined();
    expect(styled.pipeline.manifest.upscale).toBe("rerender");
  });

  it("draws the first version's bytes without a style and at strength 0, alone or batched", async () => {
    const prompts = ["a quiet harbour at dawn, teal and amber", "neon city at night", "x"];
    const before = await plain.pipeline.run(prompts.map((p, i) => draw(p, i + 1)));
    const [reference] = await styled.pipeline.run([draw("golden desert dunes", 9)]);
    const style = { vector: Array.from(reference!.style!), strength: 0 };
    const after = await styled.pipeline.run([
      ...prompts.map((p, i) => draw(p, i + 1)),
      ...prompts.map((p, i) => draw(p, i + 1, { style })),
      // A batch-mate with a real style changes nothing for the others.
      draw("red sunset over the sea", 5, { style: { ...style, strength: 0.8 } }),
    ]);
    prompts.forEach((_, i) => {
      expect(same(after[i]!, before[i]!)).toBe(true);
      expect(same(after[prompts.length + i]!, before[i]!)).toBe(true);
    });
  });

  it("reports each image's style vector: its own without a style, the reference's at strength 1", async () => {
    const [reference] = await styled.pipeline.run([draw("pink cherry blossoms", 7)]);
    expect(reference!.style).toHaveLength(STYLE_VECTOR_DIMS);
    expect(reference!.style!.every(Number.isFinite)).toBe(true);
    const vector = Array.from(reference!.style!);
    const [copy] = await styled.pipeline.run([
      draw("green mossy forest", 3, { style: { vector, strength: 1 } }),
    ]);
    expect(same(copy!, reference!)).toBe(true);
    expect(Array.from(copy!.style!)).toEqual(vector);
  });

  it("moves towards the reference's look monotonically as the strength rises", async () => {
    const pairs = [
      ["green mossy forest", "red sunset over the sea"],
      ["neon city at night", "golden desert dunes"],
      ["icy winter mountains", "fiery volcano eruption"],
      ["a quiet harbour at dawn, teal and amber", "pink cherry blossoms"],
    ] as const;
    const strengths = [0, 0.25, 0.5, 0.75, 1];
    for (const [prompt, referencePrompt] of pairs) {
      const [reference] = await styled.pipeline.run([draw(referencePrompt, 7)]);
      const target = styleEmbedding(reference!);
      const vector = Array.from(reference!.style!);
      const outputs = await styled.pipeline.run(
        strengths.map((strength) => draw(prompt, 3, { style: { vector, strength } })),
      );
      const distances = outputs.map((o) => 1 - cosine(styleEmbedding(o), target));
      for (let i = 1; i < distances.length; i++) {
        expect(distances[i], `${prompt} -> ${referencePrompt} at ${strengths[i]}`).toBeLessThan(
          distances[i - 1]!,
        );
      }
      expect(distances[0]).toBeGreaterThan(0.2);
      expect(distances.at(-1)).toBeLessThan(1e-6);
    }
  });

  it("refuses a style the model cannot take", async () => {
    const style = { vector: new Array<number>(STYLE_VECTOR_DIMS).fill(0), strength: 0.5 };
    await expect(plain.pipeline.run([draw("x", 1, { style })])).rejects.toBeInstanceOf(
      PipelineInputError,
    );
    await expect(
      styled.pipeline.run([draw("x", 1, { style: { vector: [1, 2, 3], strength: 0.5 } })]),
    ).rejects.toBeInstanceOf(PipelineInputError);
  });
});
