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
  const style = manifest.style;
  const inputs: string[] = [NAMES.tokens, NAMES.negativeTokens, NAMES.noise, NAMES.coords];
  if (style) inputs.push(style.input, style.strength_input);
  for (const name of inputs) {
    spec(manifest.inputs, name);
    if (!session.inputNames.includes(name)) throw new Error(`session has no input "${name}"`);
  }
  for (const name of style ? [NAMES.image, style.output] : [NAMES.image]) {
    spec(manifest.outputs, name);
    if (!session.outputNames.includes(name)) throw new Error(`session has no output "${name}"`);
  }
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

  /** Each image's style vector and strength; an image without a style gets zeros (no effect). */
  const styleFeeds = (batch: readonly ImageRequest[]): Record<string, Tensor> => {
    if (!style) return {};
    const vectors = new Float32Array(batch.length * style.dims);
    const strengths = new Float32Array(batch.length);
    batch.forEach((r, i) => {
      if (!r.style) return;
      vectors.set(r.style.vector, i * style.dims);
      strengths[i] = r.style.strength;
    });
    return {
      [style.input]: new Tensor("float32", vectors, [batch.length, style.dims]),
      [style.strength_input]: new Tensor("float32", strengths, [batch.length, 1]),
    };
  };

  /** Each image's style vector, from the style output. */
  const styleVectors = (result: InferenceSession.OnnxValueMapType, count: number) => {
    if (!style) return [];
    const out = result[style.output];
    if (!out || out.type !== "float32" || out.dims.join() !== [count, style.dims].join()) {
      throw new Error(`model output "${style.output}" is ${out?.type} [${out?.dims}]`);
    }
    const data = out.data as Float32Array;
    return Array.from({ length: count }, (_, i) =>
      data.slice(i * style.dims, (i + 1) * style.dims),
    );
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
        ...styleFeeds(batch),
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
      const vectors = styleVectors(result, batch.length);
      return batch.map((_, i) => ({
        width,
        height,
        channels: 3,
        data: data.subarray(i * size, (i + 1) * size),
        ...(vectors[i] && { style: vectors[i] }),
      }));
    },
  };
}
