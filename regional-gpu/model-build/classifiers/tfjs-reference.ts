import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { NSFWJS, type ModelDefinition } from "nsfwjs/core";
import { InceptionV3Model } from "nsfwjs/models/inception_v3";
import { MobileNetV2Model } from "nsfwjs/models/mobilenet_v2";
import { MobileNetV2MidModel } from "nsfwjs/models/mobilenet_v2_mid";
import { z } from "zod";
import type { SafetyScores } from "../../../contracts/region-protocol.ts";
import {
  CLASSIFIER_SIDE,
  OUTPUT_ORDER,
  type ClassifierModel,
} from "../../moderation/classifier-options.ts";

// nsfwjs's classifiers as the package runs them, on TensorFlow.js, loaded from the weights it bundles
// (nothing fetched): the reference the ONNX conversion is verified against, and the "before" of
// `npm run bench:moderation`. Tests and benchmarks only: TensorFlow.js is a dev dependency, and no
// node ever loads this module.

export const TfjsBackend = z.enum(["wasm", "cpu"]);
export type TfjsBackend = z.infer<typeof TfjsBackend>;

const DEFINITIONS: Record<ClassifierModel, ModelDefinition> = {
  MobileNetV2Mid: MobileNetV2MidModel,
  MobileNetV2: MobileNetV2Model,
  InceptionV3: InceptionV3Model,
};

/** The bundled topology and weights as an in-memory IOHandler (nsfwjs's own loader reads globals). */
async function bundledModel(definition: ModelDefinition): Promise<tf.io.IOHandler> {
  const { modelTopology, weightsManifest } = (await definition.modelJson()).default;
  if (!weightsManifest) throw new Error(`nsfwjs ${definition.name}: no weights manifest`);
  const n = definition.numOfWeightBundles;
  const shards = new Map<string, Buffer>();
  for (const [i, load] of definition.weightBundles.entries()) {
    shards.set(`group1-shard${i + 1}of${n}`, Buffer.from((await load()).default, "base64"));
  }
  const parts = weightsManifest.flatMap((group) =>
    group.paths.map((path) => {
      const shard = shards.get(path);
      if (!shard) throw new Error(`nsfwjs ${definition.name}: weight shard ${path} not bundled`);
      return shard;
    }),
  );
  const weights = Buffer.concat(parts);
  return {
    load: async () => ({
      modelTopology,
      weightSpecs: weightsManifest.flatMap((group) => group.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  };
}

export interface NsfwModel {
  readonly side: number;
  /** Scores `count` images packed as side x side RGB bytes, one after another. */
  score(pixels: Uint8Array, count: number): Promise<SafetyScores[]>;
  /** nsfwjs's own classify on one image, for checking that OUTPUT_ORDER matches the package. */
  classify(pixels: Uint8Array): Promise<{ className: string; probability: number }[]>;
}

export async function loadNsfwModel(
  model: ClassifierModel,
  backend: TfjsBackend,
): Promise<NsfwModel> {
  // PROD skips tfjs's debug checks and its console banner advertising tfjs-node.
  tf.env().set("PROD", true);
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend ${backend} failed`);
  await tf.ready();
  const definition = DEFINITIONS[model];
  const side = CLASSIFIER_SIDE[model];
  const nsfw = new NSFWJS(await bundledModel(definition), { ...definition.options, size: side });
  await nsfw.load();
  const perImage = side * side * 3;
  return {
    side,
    async score(pixels, count) {
      if (pixels.byteLength !== count * perImage) {
        throw new Error(`expected ${count} images of ${perImage} bytes`);
      }
      // nsfwjs's own preprocessing (scale to 0..1), over the whole batch at once.
      const output = tf.tidy(() => {
        const batch = tf.tensor4d(pixels, [count, side, side, 3], "int32");
        return nsfw.model.predict(batch.toFloat().div(255)) as tf.Tensor;
      });
      const values = await output.data();
      output.dispose();
      return Array.from({ length: count }, (_, i) => {
        const row = values.subarray(i * OUTPUT_ORDER.length, (i + 1) * OUTPUT_ORDER.length);
        const entries = OUTPUT_ORDER.map((name, k) => [name, clampUnit(row[k] ?? 0)] as const);
        return Object.fromEntries(entries) as SafetyScores;
      });
    },
    async classify(pixels) {
      const tensor = tf.tensor3d(pixels, [side, side, 3], "int32");
      try {
        return await nsfw.classify(tensor, OUTPUT_ORDER.length);
      } finally {
        tensor.dispose();
      }
    },
  };
}

/** float32 softmax can land a hair outside [0, 1]. */
const clampUnit = (x: number) => Math.min(1, Math.max(0, x));
