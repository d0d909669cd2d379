import { Tensor, type InferenceSession } from "onnxruntime-node";
import type { ModelManifest, TensorSpec } from "../../contracts/model-manifest.ts";
import { validateBatch, type ImageRequest, type Pipeline, type RawImage } from "./pipeline.ts";
import { PixelCoordsCache } from "./pixel-coords.ts";
import { seedNoise } from "./seeded-random.ts";
import { tokenize, type Vocabulary } from "./tokenize.ts";

// "cppn-text2img": prompt -> token ids, seed -> noise, size -> pixel coordinates; one session.run per
// batch; the uint8 [batch, pixels, 3] output is split into raw RGB images.

const NAMES = {
  tokens: "token_ids",
  negativeTokens: "negative_token_ids",
  noise: "noise",
  coords: "coords",
  image: "image",
} as const;

function spec(specs: readonly TensorSpec[], name: string): TensorSpec {
  const found = specs.find((s) => s.name === name);
  if (!found) throw new Error(`manifest has no tensor "${name}"`);
  return found;
}

export function createCppnPipeline(
  manifest: ModelManifest,
  session: InferenceSession,
  vocab: Vocabulary,
): Pipeline {
  if (manifest.pipeline !== "cppn-text2img") {
    throw new Error(`createCppnPipeline: manifest pipeline is ${manifest.pipeline}`);
  }
  for (const name of [NAMES.tokens, NAMES.negativeTokens, NAMES.noise, NAMES.coords]) {
    spec(manifest.inputs, name);
    if (!session.inputNames.includes(name)) throw new Error(`session has no input "${name}"`);
  }
  spec(manifest.outputs, NAMES.image);
  if (!session.outputNames.includes(NAMES.image)) throw new Error(`session has no output "image"`);
  const noiseDims = spec(manifest.inputs, NAMES.noise).shape[1];
  if (typeof noiseDims !== "number") throw new Error("manifest noise input needs a fixed width");
  const maxTokens = manifest.tokenizer.max_tokens;
  const coordsCache = new PixelCoordsCache();

  // Every request is padded to max_tokens, so a request's bytes never depend on its batch-mates.
  const tokenTensor = (texts: readonly string[]): Tensor => {
    const ids = new BigInt64Array(texts.length * maxTokens);
    texts.forEach((text, row) => {
      tokenize(text, vocab, maxTokens).forEach(
        (id, col) => (ids[row * maxTokens + col] = BigInt(id)),
      );
    });
    return new Tensor("int64", ids, [texts.length, maxTokens]);
  };

  return {
    manifest,
    async run(batch: ImageRequest[]): Promise<RawImage[]> {
      const { width, height } = validateBatch(manifest, batch);
      const pixels = width * height;
      const noise = new Float32Array(batch.length * noiseDims);
      batch.forEach((r, i) => noise.set(seedNoise(r.seed, noiseDims), i * noiseDims));
      const feeds = {
        [NAMES.tokens]: tokenTensor(batch.map((r) => r.prompt)),
        [NAMES.negativeTokens]: tokenTensor(batch.map((r) => r.negativePrompt ?? "")),
        [NAMES.noise]: new Tensor("float32", noise, [batch.length, noiseDims]),
        [NAMES.coords]: new Tensor("float32", coordsCache.get(width, height), [pixels, 3]),
      };
      const result = await session.run(feeds);
      const image = result[NAMES.image];
      const expected = [batch.length, pixels, 3];
      if (!image || image.type !== "uint8" || image.dims.join() !== expected.join()) {
        throw new Error(
          `model output "image" is ${image?.type} [${image?.dims}], expected uint8 [${expected}]`,
        );
      }
      const data = image.data as Uint8Array;
      const size = pixels * 3;
      return batch.map((_, i) => ({
        width,
        height,
        channels: 3,
        data: data.subarray(i * size, (i + 1) * size),
      }));
    },
  };
}
