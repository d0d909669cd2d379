import type { StyleEmbeddingPayload } from "../../contracts/region-protocol.ts";
import type { LoadedModel } from "../models/model-pool.ts";
import { embeddingPayload } from "./output-style.ts";
import { STYLE_EMBEDDING_DIMS, styleEmbedding } from "./style-descriptor.ts";

// A prompt in the style space, the way the model itself sees it: the model draws the prompt with a
// few fixed seeds at a small size, and the mean of the drawings' style embeddings (re-normalised)
// is the prompt's style. So text search works for any pipeline, through its own text encoder.

export const TEXT_STYLE_SEEDS = [1, 2, 3, 4] as const;
/** Side of the drawings: the embedding reads a 64x64 grid, so more pixels add little. */
const TEXT_STYLE_SIDE = 128;

export async function textStyleEmbedding(
  model: LoadedModel,
  text: string,
): Promise<StyleEmbeddingPayload> {
  const { min_side, max_side, multiple_of } = model.manifest.limits;
  const side = Math.min(
    max_side,
    Math.max(min_side, Math.ceil(TEXT_STYLE_SIDE / multiple_of) * multiple_of),
  );
  const run = await model.run(
    TEXT_STYLE_SEEDS.map((seed) => ({ prompt: text, seed, width: side, height: side })),
  );
  const mean = new Float64Array(STYLE_EMBEDDING_DIMS);
  for (const image of run.images) styleEmbedding(image).forEach((x, i) => (mean[i]! += x));
  const norm = Math.sqrt(mean.reduce((s, x) => s + x * x, 0));
  return embeddingPayload(Float32Array.from(mean, (x) => x / norm));
}
