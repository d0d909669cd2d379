import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SafetyScores } from "../../../contracts/region-protocol.ts";
import { OUTPUT_ORDER } from "../../moderation/classifier-options.ts";
import { noise, ramp, solid } from "../../moderation/synthetic-images.ts";
import { loadNsfwModel, type NsfwModel } from "./tfjs-reference.ts";

// The reference the ONNX classifiers are verified against (TensorFlow.js, dev dependency): loaded
// from node_modules with no network, its output order checked against nsfwjs's own classify,
// batching checked against single images.

let model: NsfwModel;
const fetches: string[] = [];

beforeAll(async () => {
  // Any weight download would go through fetch: make one fail loudly.
  vi.stubGlobal("fetch", (input: unknown) => {
    fetches.push(String(input));
    throw new Error(`no network in this test: ${String(input)}`);
  });
  try {
    model = await loadNsfwModel("MobileNetV2Mid", "wasm");
  } finally {
    vi.unstubAllGlobals();
  }
}, 120_000);
afterEach(() => vi.unstubAllGlobals());

const images = () => [ramp(224, 224), noise(224, 7), solid(224, [230, 170, 150])];

describe("bundled nsfwjs classifier", () => {
  it("loads from the package's bundled weights without fetching anything", () => {
    expect(fetches).toEqual([]);
    expect(model.side).toBe(224);
  });

  it("maps outputs to classes in nsfwjs's own order, as probabilities", async () => {
    for (const image of images()) {
      const [scores] = await model.score(image.data, 1);
      expect(SafetyScores.parse(scores)).toBeDefined();
      const total = OUTPUT_ORDER.reduce((sum, c) => sum + scores![c], 0);
      expect(total).toBeCloseTo(1, 4);
      const theirs = await model.classify(image.data);
      for (const { className, probability } of theirs) {
        expect(scores![className.toLowerCase() as (typeof OUTPUT_ORDER)[number]]).toBeCloseTo(
          probability,
          5,
        );
      }
    }
  });

  it("scores a batch as it scores each image alone", async () => {
    const batch = images();
    const packed = new Uint8Array(batch.length * 224 * 224 * 3);
    batch.forEach((img, i) => packed.set(img.data, i * img.data.length));
    const together = await model.score(packed, batch.length);
    for (const [i, img] of batch.entries()) {
      const [alone] = await model.score(img.data, 1);
      for (const c of OUTPUT_ORDER) expect(together[i]![c]).toBeCloseTo(alone![c], 4);
    }
    await expect(model.score(packed, 2)).rejects.toThrow(/expected 2 images/);
  });
});
