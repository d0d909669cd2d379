import { InferenceSession, Tensor } from "onnxruntime-node";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import { createCppnPipeline } from "../../regional-gpu/pipelines/cppn-text2img.ts";
import type { Pipeline, RawImage } from "../../regional-gpu/pipelines/pipeline.ts";
import { tokenize, type Vocabulary } from "../../regional-gpu/pipelines/tokenize.ts";
import { styleEmbedding } from "../../regional-gpu/style/style-descriptor.ts";
import { TEXT_UNIT, withTextUnitOutput } from "./prompt-head-graph.ts";

// A cppn-text2img version opened from its bytes on the CPU: the trainer's way to read a prompt's
// text vector (through the parent graph itself) and to draw outputs for offline evaluation.

export const TEXT_DIMS = 100;
/** Size and seeds outputs are drawn at for offline evaluation (the style descriptor reads a 64 x 64 grid). */
export const EVAL_SIDE = 64;
export const EVAL_SEEDS = [101, 202, 303, 404] as const;

export interface OpenedModel {
  pipeline: Pipeline;
  close(): Promise<void>;
}

export async function openModel(
  manifest: ModelManifest,
  bytes: Uint8Array,
  vocab: Vocabulary,
): Promise<OpenedModel> {
  const session = await InferenceSession.create(bytes, { executionProviders: ["cpu"] });
  return {
    pipeline: createCppnPipeline(manifest, session, vocab),
    close: () => session.release(),
  };
}

export interface TextEncoder {
  /** The unit text vector the model conditions on for each (prompt, negative prompt). */
  encode(
    texts: ReadonlyArray<{ prompt: string; negative?: string | null }>,
  ): Promise<Float64Array[]>;
  close(): Promise<void>;
}

/** The parent's own text encoder: its graph with the text vector as an output, fed one pixel. */
export async function openTextEncoder(
  manifest: ModelManifest,
  bytes: Uint8Array,
  vocab: Vocabulary,
): Promise<TextEncoder> {
  const session = await InferenceSession.create(withTextUnitOutput(bytes, TEXT_DIMS), {
    executionProviders: ["cpu"],
  });
  const maxTokens = manifest.tokenizer.max_tokens;
  const ids = (texts: readonly string[]) => {
    const out = new BigInt64Array(texts.length * maxTokens);
    texts.forEach((t, row) =>
      tokenize(t, vocab, maxTokens).forEach((id, col) => (out[row * maxTokens + col] = BigInt(id))),
    );
    return new Tensor("int64", out, [texts.length, maxTokens]);
  };
  return {
    async encode(texts) {
      if (texts.length === 0) return [];
      const n = texts.length;
      const feeds: Record<string, Tensor> = {};
      for (const input of manifest.inputs) {
        if (input.name === "token_ids") feeds[input.name] = ids(texts.map((t) => t.prompt));
        else if (input.name === "negative_token_ids") {
          feeds[input.name] = ids(texts.map((t) => t.negative ?? ""));
        } else if (input.name === "coords") {
          feeds[input.name] = new Tensor("float32", new Float32Array(3), [1, 3]);
        } else {
          // The seed's noise and any other per-image input: zeros (they do not reach the text vector).
          const shape = input.shape.map((d) => (typeof d === "number" ? d : n));
          const size = shape.reduce((a, b) => a * b, 1);
          feeds[input.name] = new Tensor("float32", new Float32Array(size), shape);
        }
      }
      const result = await session.run(feeds, [TEXT_UNIT]);
      const data = result[TEXT_UNIT]!.data as Float32Array;
      return texts.map((_, i) =>
        Float64Array.from(data.subarray(i * TEXT_DIMS, (i + 1) * TEXT_DIMS)),
      );
    },
    close: () => session.release(),
  };
}

/** Unit-length mean of the style embeddings of `prompt` drawn at EVAL_SEEDS. */
export async function promptStyle(
  pipeline: Pipeline,
  prompt: string,
  negativePrompt: string | null,
): Promise<Float64Array> {
  const images: RawImage[] = await pipeline.run(
    EVAL_SEEDS.map((seed) => ({
      prompt,
      negativePrompt: negativePrompt ?? undefined,
      seed,
      width: EVAL_SIDE,
      height: EVAL_SIDE,
    })),
  );
  return meanUnit(images.map((img) => styleEmbedding(img)));
}

export function meanUnit(vectors: ReadonlyArray<ArrayLike<number>>): Float64Array {
  const out = new Float64Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < out.length; i++) out[i]! += v[i]!;
  const norm = Math.hypot(...out);
  return norm > 0 ? out.map((x) => x / norm) : out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
