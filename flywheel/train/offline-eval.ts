import type { Pipeline } from "../../regional-gpu/pipelines/pipeline.ts";
import { styleEmbedding } from "../../regional-gpu/style/style-descriptor.ts";
import { STYLE_DESCRIPTOR } from "../../contracts/style.ts";
import type { PreferencePair } from "../dataset/format.ts";
import { loadImage, type Dataset } from "../dataset/read-dataset.ts";
import { dot, promptStyle } from "./cppn-runtime.ts";

// Offline evaluation on held-out pairs: a version wins a pair when its outputs for the pair's
// prompt (drawn at fixed seeds, their style embeddings averaged) are nearer the chosen image than
// the rejected one, by cosine similarity of the platform's style embedding; a tie counts half.

export const EVAL_DISTANCE = `cosine of ${STYLE_DESCRIPTOR} style embeddings`;

/** Style embeddings of the dataset's images, computed once per image. */
export class ImageStyles {
  readonly #cache = new Map<string, Promise<Float32Array>>();
  readonly #dataset: Dataset;

  constructor(dataset: Dataset) {
    this.#dataset = dataset;
  }

  of(ref: PreferencePair["chosen"]): Promise<Float32Array> {
    let hit = this.#cache.get(ref.image);
    if (!hit) {
      hit = loadImage(this.#dataset, ref).then(styleEmbedding);
      this.#cache.set(ref.image, hit);
    }
    return hit;
  }
}

/** Share of `pairs` `pipeline` wins (0 when there are none). */
export async function winRate(
  pipeline: Pipeline,
  pairs: readonly PreferencePair[],
  styles: ImageStyles,
): Promise<number> {
  if (pairs.length === 0) return 0;
  const byPrompt = new Map<string, Promise<Float64Array>>();
  let wins = 0;
  for (const pair of pairs) {
    const key = `${pair.prompt}\u0000${pair.negative_prompt ?? ""}`;
    let drawn = byPrompt.get(key);
    if (!drawn) {
      drawn = promptStyle(pipeline, pair.prompt, pair.negative_prompt);
      byPrompt.set(key, drawn);
    }
    const own = await drawn;
    const toChosen = dot(own, await styles.of(pair.chosen));
    const toRejected = dot(own, await styles.of(pair.rejected));
    wins += toChosen > toRejected ? 1 : toChosen === toRejected ? 0.5 : 0;
  }
  return wins / pairs.length;
}
