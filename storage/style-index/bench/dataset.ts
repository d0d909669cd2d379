import { STYLE_EMBEDDING_DIMS } from "../../../contracts/style.ts";
import { STYLE_MODEL_VERSION } from "../../../regional-gpu/model-build/build-reference-model.ts";
import { styleEmbedding } from "../../../regional-gpu/style/style-descriptor.ts";
import { openReferencePipeline } from "../../../regional-gpu/testing/reference-pipeline.ts";

// Realistic style embeddings at any count: real renders of the reference model (prompts from a
// grid of subjects and colour words, several seeds) embedded by the real descriptor, then
// perturbed (Gaussian noise, re-normalised) to as many vectors as asked. The noise is sized from
// the renders themselves: a perturbation sits about as far from its base as another seed of the
// same prompt does, so the index sees the clusters and near-ties real traffic would give it.

const SUBJECTS = [
  "harbour",
  "forest",
  "city",
  "desert",
  "mountains",
  "ocean",
  "garden",
  "storm",
  "volcano",
  "glacier",
  "meadow",
  "canyon",
  "river",
  "island",
  "temple",
  "market",
  "lighthouse",
  "jungle",
  "valley",
  "lake",
];
const MOODS = [
  "at dawn",
  "at night",
  "in the rain",
  "under a pale sky",
  "in autumn",
  "in spring",
  "teal and amber",
  "crimson and gold",
  "violet twilight",
  "misty grey",
  "neon magenta",
  "emerald and ivory",
  "rust and copper",
  "icy blue",
  "golden sunset",
  "pink blossom",
  "navy and silver",
  "fiery orange",
  "lavender haze",
  "jade and black",
];

/** mulberry32: small, seeded, the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BaseSet {
  /** Unit vectors, row-major [count, dims]. */
  vectors: Float32Array;
  count: number;
  /** Per-dimension noise that puts a perturbation a seed's distance from its base. */
  sigma: number;
}

/** Renders `prompts x seeds` at 128x128 and embeds them. */
export async function renderBaseSet(prompts = 200, seeds = 2): Promise<BaseSet> {
  const open = await openReferencePipeline(STYLE_MODEL_VERSION);
  try {
    const texts = Array.from(
      { length: prompts },
      (_, i) =>
        `${SUBJECTS[i % SUBJECTS.length]} ${MOODS[Math.floor(i / SUBJECTS.length) % MOODS.length]}`,
    );
    const vectors = new Float32Array(prompts * seeds * STYLE_EMBEDDING_DIMS);
    const seedDistances: number[] = [];
    for (let p = 0; p < prompts; p++) {
      const images = await open.pipeline.run(
        Array.from({ length: seeds }, (_, s) => ({
          prompt: texts[p]!,
          seed: s + 1,
          width: 128,
          height: 128,
        })),
      );
      const embedded = images.map((image) => styleEmbedding(image));
      embedded.forEach((e, s) => vectors.set(e, (p * seeds + s) * STYLE_EMBEDDING_DIMS));
      for (let s = 1; s < seeds; s++) {
        seedDistances.push(Math.hypot(...embedded[s]!.map((x, i) => x - embedded[0]![i]!)));
      }
    }
    const meanDistance = seedDistances.reduce((a, b) => a + b, 0) / seedDistances.length;
    // |a - b| of two perturbations of one base ~ sigma * sqrt(2 * dims).
    const sigma = meanDistance / Math.sqrt(2 * STYLE_EMBEDDING_DIMS);
    return { vectors, count: prompts * seeds, sigma };
  } finally {
    await open.close();
  }
}

/** The `index`-th perturbed vector (deterministic in `index`), written into `out`. */
export function perturbed(base: BaseSet, index: number, out: Float32Array, offset = 0): void {
  const random = seededRandom(index * 2654435761);
  const b = (index % base.count) * STYLE_EMBEDDING_DIMS;
  let norm = 0;
  for (let i = 0; i < STYLE_EMBEDDING_DIMS; i += 2) {
    // Box-Muller: two normals per draw.
    const r = Math.sqrt(-2 * Math.log(random() + 1e-12));
    const t = 2 * Math.PI * random();
    const x0 = base.vectors[b + i]! + r * Math.cos(t) * base.sigma;
    const x1 = base.vectors[b + i + 1]! + r * Math.sin(t) * base.sigma;
    out[offset + i] = x0;
    out[offset + i + 1] = x1;
    norm += x0 * x0 + x1 * x1;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < STYLE_EMBEDDING_DIMS; i++) out[offset + i]! *= scale;
}
