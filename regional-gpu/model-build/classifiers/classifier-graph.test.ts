import { InferenceSession, Tensor } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLASSIFIER_IO,
  CLASSIFIER_SIDE,
  ClassifierModel,
  OUTPUT_ORDER,
} from "../../moderation/classifier-options.ts";
import { classifierInput } from "../../moderation/output-moderator.ts";
import { SAMPLE_PROMPTS } from "../../moderation/sample-prompts.ts";
import { noise, ramp, solid } from "../../moderation/synthetic-images.ts";
import { PIPELINE_FACTORIES } from "../../models/pipeline-factories.ts";
import type { RawImage } from "../../pipelines/pipeline.ts";
import { TEST_CLASSIFIERS_DIR } from "../../testing/classifiers.ts";
import { referenceModel } from "../../testing/reference-model.ts";
import { ensureClassifierModel } from "./build-classifiers.ts";
import { loadNsfwModel } from "./tfjs-reference.ts";

// The converted classifiers against nsfwjs's own models on TensorFlow.js (wasm backend, what nodes
// ran before), on one fixed image set: synthetic images and reference-model renders, among them the
// one the screen flags ("snow storm green dawn", seed 5004). Every class probability of every image
// agrees to within MAX_ABS_DIFF; measured on this machine: MobileNetV2Mid 5.4e-7, InceptionV3
// 3.0e-7, MobileNetV2 1.4e-6 (docs/benchmarks.md, "Regional node", 2026-12-07).

const MAX_ABS_DIFF = 1e-5;

let renders: RawImage[] = [];
const sessions: InferenceSession[] = [];

beforeAll(async () => {
  const model = await referenceModel();
  const dir = `${model.modelsDir}/${model.manifest.name}/${model.manifest.version}`;
  const session = await InferenceSession.create(`${dir}/${model.manifest.file}`, {
    executionProviders: ["cpu"],
  });
  const pipeline = await PIPELINE_FACTORIES[model.manifest.pipeline]({
    manifest: model.manifest,
    dir,
    session,
  });
  const requests = [
    ...SAMPLE_PROMPTS.slice(0, 3).map((prompt, i) => ({ prompt, seed: 1000 + i })),
    { prompt: "snow storm green dawn", seed: 5004 },
  ];
  renders = await pipeline.run(requests.map((r) => ({ ...r, width: 128, height: 128 })));
  await session.release();
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
});

/** The fixed image set at a model's side, packed one image after another. */
async function imageSet(side: number): Promise<{ pixels: Uint8Array; count: number }> {
  const images = [
    ramp(side, side).data,
    ramp(side, side, 60).data,
    noise(side, 7).data,
    solid(side, [230, 170, 150]).data,
    ...(await Promise.all(renders.map((r) => classifierInput(r, side)))),
  ];
  const bytes = side * side * 3;
  const pixels = new Uint8Array(images.length * bytes);
  images.forEach((image, i) => pixels.set(image, i * bytes));
  return { pixels, count: images.length };
}

describe.each(ClassifierModel.options)("%s converted to ONNX", (model) => {
  it("gives nsfwjs's probabilities on the fixed image set", async () => {
    const side = CLASSIFIER_SIDE[model];
    const { pixels, count } = await imageSet(side);
    const built = await ensureClassifierModel(model, TEST_CLASSIFIERS_DIR, () => {});
    const session = await InferenceSession.create(built.path, { executionProviders: ["cpu"] });
    sessions.push(session);
    expect(session.inputNames).toEqual([CLASSIFIER_IO.input]);
    expect(session.outputNames).toEqual([CLASSIFIER_IO.output]);
    const input = new Tensor("uint8", pixels, [count, side, side, 3]);
    const ours = (await session.run({ [CLASSIFIER_IO.input]: input }))[CLASSIFIER_IO.output]!;
    expect(ours.dims).toEqual([count, OUTPUT_ORDER.length]);

    const reference = await loadNsfwModel(model, "wasm");
    const theirs = await reference.score(pixels, count);
    const values = ours.data as Float32Array;
    let maxAbsDiff = 0;
    theirs.forEach((scores, i) =>
      OUTPUT_ORDER.forEach((c, k) => {
        maxAbsDiff = Math.max(
          maxAbsDiff,
          Math.abs(values[i * OUTPUT_ORDER.length + k]! - scores[c]),
        );
      }),
    );
    expect(maxAbsDiff).toBeLessThan(MAX_ABS_DIFF);
  }, 60_000);
});
