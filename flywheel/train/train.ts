import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelManifest, type ModelLineage } from "../../contracts/model-manifest.ts";
import { writeFileAtomic } from "../../regional-gpu/model-build/atomic-file.ts";
import { LocalModelStore } from "../../regional-gpu/models/model-store.ts";
import { loadVocabulary } from "../../regional-gpu/pipelines/vocabulary.ts";
import type { PreferencePair } from "../dataset/format.ts";
import { loadImage, readDataset, type Dataset } from "../dataset/read-dataset.ts";
import { EVAL_SEEDS, EVAL_SIDE, openModel, openTextEncoder, TEXT_DIMS } from "./cppn-runtime.ts";
import { EVAL_DISTANCE, ImageStyles, winRate } from "./offline-eval.ts";
import { ANCHOR_WORDS, paletteVector } from "./palette-target.ts";
import { withPromptHead, type PromptHead } from "./prompt-head-graph.ts";
import { fitRidge, type RidgeFit } from "./ridge.ts";

// `npm run flywheel -- train --dataset D`: fits the prompt head of a cppn-text2img version on a
// curated dataset and writes the result as a new version beside its parent in the model store.
//  1. split the pairs by a hash of their id: 20% held out for the final test, 10% validation;
//  2. for each training pair, x = the parent's text vector of the prompt, y = the chosen image's
//     palette vector minus the rejected one's (palette-target.ts); likes add y = the liked image's
//     palette vector minus the prompt's own (toward what was liked);
//  3. ridge regression y ~ x W + b (lambda below), in closed form;
//  4. the step (how far along the fitted direction the head moves the text vector) is the one with
//     the best validation win rate among STEPS;
//  5. offline evaluation on the held-out pairs against the parent: lineage.offline_eval.

export const TRAINING = {
  method: "ridge regression of palette-vector differences on the prompt's text vector",
  lambda: 4,
  steps: [0.5, 1, 2, 4, 8],
  held_out_share: 0.2,
  validation_share: 0.1,
  likes_weight: 0.5,
  /** Fewer held-out pairs than this and a version cannot claim to beat its parent. */
  min_held_out: 10,
} as const;

export interface TrainOptions {
  datasetDir: string;
  modelsDir: string;
  /** The parent's version (of the dataset's model). */
  parentVersion: string;
  log?: (line: string) => void;
}

export interface TrainedVersion {
  manifest: ModelManifest;
  dir: string;
}

const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

/** 0..99 from the pair's id: the split never depends on row order. */
const bucketOf = (pair: PreferencePair) =>
  parseInt(sha256(`split:${pair.id}`).slice(0, 8), 16) % 100;

export function splitPairs(pairs: readonly PreferencePair[]) {
  const test: PreferencePair[] = [];
  const validation: PreferencePair[] = [];
  const train: PreferencePair[] = [];
  for (const pair of pairs) {
    const bucket = bucketOf(pair);
    if (bucket < TRAINING.held_out_share * 100) test.push(pair);
    else if (bucket < (TRAINING.held_out_share + TRAINING.validation_share) * 100)
      validation.push(pair);
    else train.push(pair);
  }
  return { train, validation, test };
}

function headOf(fit: RidgeFit, step: number): PromptHead {
  return {
    dims: TEXT_DIMS,
    weights: Float32Array.from(fit.weights, (w) => w * step),
    bias: Float32Array.from(fit.bias, (b) => b * step),
  };
}

async function trainingRows(
  dataset: Dataset,
  train: readonly PreferencePair[],
  encode: (texts: Array<{ prompt: string; negative?: string | null }>) => Promise<Float64Array[]>,
) {
  const anchorVectors = await encode(ANCHOR_WORDS.map((prompt) => ({ prompt })));
  const palette = async (ref: PreferencePair["chosen"]) =>
    paletteVector(await loadImage(dataset, ref), anchorVectors);
  const xs = await encode(train.map((p) => ({ prompt: p.prompt, negative: p.negative_prompt })));
  const ys: Float64Array[] = [];
  for (const pair of train) {
    const [c, r] = [await palette(pair.chosen), await palette(pair.rejected)];
    ys.push(c.map((v, i) => v - r[i]!));
  }
  const likedXs = await encode(
    dataset.likes.map((l) => ({ prompt: l.prompt, negative: l.negative_prompt })),
  );
  for (const [i, liked] of dataset.likes.entries()) {
    const target = await palette(liked.output);
    const x = likedXs[i]!;
    xs.push(x);
    ys.push(target.map((v, d) => TRAINING.likes_weight * (v - x[d]!)));
  }
  return { xs, ys };
}

interface Parent {
  manifest: ModelManifest;
  dir: string;
  bytes: Uint8Array;
  vocab: Awaited<ReturnType<typeof loadVocabulary>>;
}

async function openParent(modelsDir: string, model: string, version: string): Promise<Parent> {
  const found = await new LocalModelStore(modelsDir).find(model, version);
  if (!found) throw new Error(`no ${model}@${version} in ${modelsDir}`);
  const manifest = found.manifest;
  return {
    manifest,
    dir: found.dir,
    bytes: new Uint8Array(await readFile(join(found.dir, manifest.file))),
    vocab: await loadVocabulary(
      join(found.dir, manifest.tokenizer.file),
      manifest.tokenizer.sha256,
    ),
  };
}

/** Steps 2-3: the ridge fit of palette-vector differences on the prompt's text vector. */
async function fitHead(
  parent: Parent,
  dataset: Dataset,
  train: readonly PreferencePair[],
): Promise<RidgeFit> {
  const encoder = await openTextEncoder(parent.manifest, parent.bytes, parent.vocab);
  try {
    const { xs, ys } = await trainingRows(dataset, train, (t) => encoder.encode(t));
    return fitRidge(xs, ys, TRAINING.lambda);
  } finally {
    await encoder.close();
  }
}

/** The win rate of a graph (the parent's, or one with a head spliced in) on `pairs`. */
function winRater(parent: Parent, dataset: Dataset) {
  const styles = new ImageStyles(dataset);
  return async (bytes: Uint8Array, pairs: readonly PreferencePair[]) => {
    const opened = await openModel(parent.manifest, bytes, parent.vocab);
    try {
      return await winRate(opened.pipeline, pairs, styles);
    } finally {
      await opened.close();
    }
  };
}

/** Writes the version beside its parent in the model store: graph, vocabulary, manifest. */
async function writeVersion(
  modelsDir: string,
  parent: Parent,
  version: string,
  bytes: Uint8Array,
  lineage: ModelLineage,
): Promise<TrainedVersion> {
  const p = parent.manifest;
  const dir = join(modelsDir, p.name, version);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, p.file), bytes);
  await copyFile(join(parent.dir, p.tokenizer.file), join(dir, p.tokenizer.file));
  const manifest = ModelManifest.parse({
    ...p,
    version,
    sha256: sha256(bytes),
    bytes: bytes.byteLength,
    created_by: "flywheel/train/train.ts (prompt head)",
    lineage,
  });
  await writeFileAtomic(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, dir };
}

export async function trainVersion(options: TrainOptions): Promise<TrainedVersion> {
  const log = options.log ?? console.log;
  const dataset = await readDataset(options.datasetDir);
  const parent = await openParent(options.modelsDir, dataset.manifest.model, options.parentVersion);
  const { train, validation, test } = splitPairs(dataset.pairs);
  log(
    `pairs: ${train.length} train, ${validation.length} validation, ${test.length} held out; likes: ${dataset.likes.length}`,
  );
  if (train.length + dataset.likes.length === 0)
    throw new Error("the dataset has nothing to train on");
  const fit = await fitHead(parent, dataset, train);

  const rateOf = winRater(parent, dataset);
  // Validation picks the step (the training pairs themselves when there is no validation split).
  const tuning = validation.length > 0 ? validation : train;
  let best = { step: TRAINING.steps[0] as number, rate: -1 };
  for (const step of TRAINING.steps) {
    const rate = await rateOf(
      withPromptHead(parent.bytes, headOf(fit, step), "validation"),
      tuning,
    );
    log(`step ${step}: validation win rate ${rate.toFixed(3)}`);
    if (rate > best.rate) best = { step, rate };
  }

  const trainingParams = { ...TRAINING, step: best.step, validation_win_rate: round(best.rate) };
  const version = `ft-${sha256(`${parent.manifest.sha256}:${dataset.manifest.id}:${JSON.stringify(trainingParams)}`).slice(0, 12)}`;
  const bytes = withPromptHead(parent.bytes, headOf(fit, best.step), version);
  const [winNew, winParent] = [await rateOf(bytes, test), await rateOf(parent.bytes, test)];
  const offline = {
    distance: `${EVAL_DISTANCE}; outputs at ${EVAL_SIDE}x${EVAL_SIDE}, seeds ${EVAL_SEEDS.join(",")}`,
    held_out_pairs: test.length,
    win_rate: round(winNew),
    parent_win_rate: round(winParent),
    beats_parent: test.length >= TRAINING.min_held_out && winNew > winParent,
  };
  log(
    `held out: ${test.length} pairs, win rate ${offline.win_rate} vs parent ${offline.parent_win_rate}`,
  );
  const p = parent.manifest;
  const trained = await writeVersion(options.modelsDir, parent, version, bytes, {
    parent: `${p.name}@${p.version}`,
    parent_version: p.version,
    parent_sha256: p.sha256,
    dataset: {
      id: dataset.manifest.id,
      format: dataset.manifest.format,
      pairs: dataset.pairs.length,
      likes: dataset.likes.length,
    },
    training: { ...trainingParams, train_pairs: train.length, validation_pairs: validation.length },
    offline_eval: offline,
  });
  log(`wrote ${p.name}@${version} in ${trained.dir}`);
  return trained;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
