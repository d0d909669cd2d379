import { dirname, join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureReferenceModel } from "../model-build/build-reference-model.ts";
import { TEST_MODELS_DIR } from "../testing/reference-model.ts";
import { createCppnPipeline } from "./cppn-text2img.ts";
import { PipelineInputError, type ImageRequest, type Pipeline, type RawImage } from "./pipeline.ts";
import { loadVocabulary } from "./vocabulary.ts";

// Properties of the real reference model run through the real ONNX Runtime (CPU), on small renders.

let pipeline: Pipeline;
let open: () => Promise<Pipeline>;
const sessions: InferenceSession[] = [];

beforeAll(async () => {
  const { manifestPath, manifest } = await ensureReferenceModel(TEST_MODELS_DIR, () => {});
  const dir = dirname(manifestPath);
  const vocab = await loadVocabulary(join(dir, manifest.tokenizer.file), manifest.tokenizer.sha256);
  open = async () => {
    const session = await InferenceSession.create(join(dir, manifest.file), {
      executionProviders: ["cpu"],
    });
    sessions.push(session);
    return createCppnPipeline(manifest, session, vocab);
  };
  pipeline = await open();
}, 180_000);
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
});

const SIZE = 64;
const request = (
  prompt: string,
  seed: number,
  extra: Partial<ImageRequest> = {},
): ImageRequest => ({
  prompt,
  seed,
  width: SIZE,
  height: SIZE,
  ...extra,
});
const render = async (prompt: string, seed: number, extra: Partial<ImageRequest> = {}) =>
  (await pipeline.run([request(prompt, seed, extra)]))[0]!;

/** Share of pixels in different 4x4x4 colour bins (0 = same colour distribution, 1 = disjoint). */
function paletteDistance(a: RawImage, b: RawImage): number {
  const histogram = (img: RawImage) => {
    const h = new Float64Array(64);
    const pixels = img.data.length / 3;
    for (let i = 0; i < img.data.length; i += 3) {
      h[(img.data[i]! >> 6) * 16 + (img.data[i + 1]! >> 6) * 4 + (img.data[i + 2]! >> 6)]! +=
        1 / pixels;
    }
    return h;
  };
  const [ha, hb] = [histogram(a), histogram(b)];
  return ha.reduce((sum, x, i) => sum + Math.abs(x - hb[i]!), 0) / 2;
}

function channelStd(img: RawImage): number[] {
  return [0, 1, 2].map((c) => {
    let sum = 0;
    let squares = 0;
    const n = img.data.length / 3;
    for (let i = c; i < img.data.length; i += 3) {
      sum += img.data[i]!;
      squares += img.data[i]! ** 2;
    }
    return Math.sqrt(squares / n - (sum / n) ** 2);
  });
}

const SUNSET = "red sunset over the sea";
const CRIMSON = "crimson sunset above the ocean";
const FOREST = "green mossy forest";
const SEEDS = [1, 2, 3];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("cppn-text2img pipeline", () => {
  it("renders raw RGB of the requested size", async () => {
    const [wide] = await pipeline.run([request(SUNSET, 1, { width: 128, height: 64 })]);
    expect(wide).toMatchObject({ width: 128, height: 64, channels: 3 });
    expect(wide!.data).toBeInstanceOf(Uint8Array);
    expect(wide!.data).toHaveLength(128 * 64 * 3);
  });

  it("gives identical bytes for the same prompt and seed, also from a fresh session", async () => {
    const a = await render(SUNSET, 42);
    const b = await render(SUNSET, 42);
    const c = (await (await open()).run([request(SUNSET, 42)]))[0]!;
    expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
    expect(Buffer.from(c.data).equals(Buffer.from(a.data))).toBe(true);
  });

  it("gives each request of a batch the bytes it gets alone", async () => {
    const batch = [
      request(SUNSET, 5, { width: 128, height: 128 }),
      request(`${FOREST} at the edge of a long winding river`, 9, {
        width: 128,
        height: 128,
        negativePrompt: "blue",
      }),
      request("xqzzy", 11, { width: 128, height: 128 }),
    ];
    const together = await pipeline.run(batch);
    for (const [i, r] of batch.entries()) {
      const [alone] = await pipeline.run([r]);
      expect(Buffer.from(together[i]!.data).equals(Buffer.from(alone!.data))).toBe(true);
    }
  });

  it("gives similar prompts related palettes and unrelated prompts different ones", async () => {
    const near: number[] = [];
    const far: number[] = [];
    for (const seed of SEEDS) {
      const [sunset, crimson, forest] = await pipeline.run(
        [SUNSET, CRIMSON, FOREST].map((p) => request(p, seed)),
      );
      near.push(paletteDistance(sunset!, crimson!));
      far.push(paletteDistance(sunset!, forest!), paletteDistance(crimson!, forest!));
    }
    expect(Math.max(...near)).toBeLessThan(Math.min(...far));
    expect(mean(near)).toBeLessThan(0.7 * mean(far));
    // Different prompts: most pixels fall in other colour bins.
    expect(mean(far)).toBeGreaterThan(0.6);
  });

  it("lets the seed change details but not the palette much", async () => {
    const bySeed: number[] = [];
    const byPrompt: number[] = [];
    for (const seed of SEEDS) {
      const [a, b, other] = await Promise.all([
        render(SUNSET, seed),
        render(SUNSET, seed + 100),
        render(FOREST, seed),
      ]);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(false);
      bySeed.push(paletteDistance(a, b));
      byPrompt.push(paletteDistance(a, other));
    }
    expect(mean(bySeed)).toBeLessThan(0.5 * mean(byPrompt));
  });

  it("never renders a flat image, whatever the prompt", async () => {
    const prompts = [
      SUNSET,
      FOREST,
      "snowy mountain peak",
      "neon city at night",
      "xqzzy blorf",
      "",
    ];
    for (const prompt of prompts) {
      for (const std of channelStd(await render(prompt, 7))) expect(std).toBeGreaterThan(15);
    }
  });

  it("renders prompts with no known words, the seed choosing the palette", async () => {
    const a = await render("xqzzy blorf 1234 ///", 1);
    const b = await render("xqzzy blorf 1234 ///", 2);
    expect(a.data).toHaveLength(SIZE * SIZE * 3);
    expect(paletteDistance(a, b)).toBeGreaterThan(0.3);
    expect(Buffer.from((await render("", 1)).data).equals(Buffer.from(a.data))).toBe(true);
  });

  it("steers away from the negative prompt", async () => {
    const plain = await render(SUNSET, 3);
    const steered = await render(SUNSET, 3, { negativePrompt: "blue ocean water" });
    const blueOcean = await render("blue ocean water", 3);
    expect(Buffer.from(steered.data).equals(Buffer.from(plain.data))).toBe(false);
    expect(paletteDistance(steered, blueOcean)).toBeGreaterThan(paletteDistance(plain, blueOcean));
  });

  it("rejects batches it cannot run with a clear error", async () => {
    const cases: [ImageRequest[], RegExp][] = [
      [
        [request(SUNSET, 1), request(SUNSET, 1, { width: 128 })],
        /share width and height.*64x64, 128x64/,
      ],
      [[request(SUNSET, 1, { width: 100 })], /multiples of 64/],
      [[request(SUNSET, 1, { height: 4096 })], /64\.\.2048/],
      [[request(SUNSET, -1)], /invalid request/],
      [[], /empty/],
    ];
    for (const [batch, message] of cases) {
      const error = await pipeline.run(batch).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PipelineInputError);
      expect((error as Error).message).toMatch(message);
    }
  });
});
