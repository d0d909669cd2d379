import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { Sha256Hex } from "../../../contracts/model-manifest.ts";
import {
  CLASSIFIER_IO,
  CLASSIFIER_SIDE,
  ClassifierModel,
} from "../../moderation/classifier-options.ts";
import { fileDigest } from "../../models/file-digest.ts";
import { writeFileAtomic } from "../atomic-file.ts";
import { buildClassifierGraph, CLASSIFIER_OPSET } from "./classifier-graph.ts";
import { nsfwjsVersion } from "./nsfwjs-bundle.ts";

// The output-safety classifiers as ONNX files, converted from the weights the nsfwjs package bundles
// into <dir>/nsfwjs-<model>/<nsfwjs version>/{model.onnx, manifest.json}. The bytes are the same on
// every build. `ensureClassifierModel` reuses a build while its file matches its sha256 and the
// conversion recipe is unchanged, so nodes and tests convert once per machine, not per start.
//
//   node regional-gpu/model-build/classifiers/build-classifiers.ts [--out <dir>] [--models a,b]

/** Sources whose content decides the output bytes (the fingerprint catches edits). */
const RECIPE_FILES = [
  "build-classifiers.ts",
  "classifier-graph.ts",
  "keras-layers.ts",
  "nchw-net.ts",
  "nsfwjs-bundle.ts",
  "tf-graph.ts",
  "../onnx-graph.ts",
];
const FILES = { model: "model.onnx", manifest: "manifest.json" } as const;

export const DEFAULT_CLASSIFIERS_DIR = fileURLToPath(
  new URL("../../../.data/classifiers", import.meta.url),
);

export const ClassifierManifest = z.strictObject({
  /** What judged, on every moderation verdict: e.g. "nsfwjs/MobileNetV2Mid@4.4.0+onnx". */
  classifier: z.string(),
  model: ClassifierModel,
  source: z.string(),
  file: z.literal(FILES.model),
  sha256: Sha256Hex,
  bytes: z.number().int().positive(),
  side: z.number().int().positive(),
  input: z.string(),
  output: z.string(),
  opset: z.number().int(),
  created_by: z.string(),
});
export type ClassifierManifest = z.infer<typeof ClassifierManifest>;

export interface BuiltClassifier {
  /** The ONNX file. */
  path: string;
  manifest: ClassifierManifest;
}

type Log = (line: string) => void;

/** "nsfwjs/<model>@<version>+onnx": the classifier id every verdict carries. */
export const classifierId = (model: ClassifierModel, version: string = nsfwjsVersion()) =>
  `nsfwjs/${model}@${version}+onnx`;

async function createdBy(version: string): Promise<string> {
  const hash = createHash("sha256").update(`nsfwjs@${version}\0`);
  for (const file of RECIPE_FILES) {
    hash.update(`${file}\0`).update(await readFile(new URL(file, import.meta.url)));
  }
  return `regional-gpu/model-build/classifiers recipe ${hash.digest("hex").slice(0, 16)}`;
}

export const classifierDir = (dir: string, model: ClassifierModel, version = nsfwjsVersion()) =>
  join(dir, `nsfwjs-${model}`, version);

export async function buildClassifierModel(
  model: ClassifierModel,
  dir: string = DEFAULT_CLASSIFIERS_DIR,
  log: Log = console.log,
): Promise<BuiltClassifier> {
  const version = nsfwjsVersion();
  const out = classifierDir(dir, model, version);
  const started = performance.now();
  const bytes = await buildClassifierGraph(model, version);
  await mkdir(out, { recursive: true });
  const path = join(out, FILES.model);
  await writeFileAtomic(path, bytes);
  const manifest: ClassifierManifest = {
    classifier: classifierId(model, version),
    model,
    source: `nsfwjs@${version}`,
    file: FILES.model,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    bytes: bytes.byteLength,
    side: CLASSIFIER_SIDE[model],
    ...CLASSIFIER_IO,
    opset: CLASSIFIER_OPSET,
    created_by: await createdBy(version),
  };
  await writeFileAtomic(join(out, FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(
    `classifier ${manifest.classifier}: ${path} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB, ${seconds} s)`,
  );
  return { path, manifest };
}

/** The build at `out` if its manifest, file and recipe are intact, else null. */
async function readIntact(out: string, model: ClassifierModel): Promise<BuiltClassifier | null> {
  let manifest: ClassifierManifest;
  try {
    const parsed = ClassifierManifest.safeParse(
      JSON.parse(await readFile(join(out, FILES.manifest), "utf8")),
    );
    if (!parsed.success) return null;
    manifest = parsed.data;
  } catch {
    return null;
  }
  const version = nsfwjsVersion();
  if (manifest.model !== model || manifest.created_by !== (await createdBy(version))) return null;
  const path = join(out, manifest.file);
  try {
    const digest = await fileDigest(path);
    if (digest.sha256 !== manifest.sha256 || digest.bytes !== manifest.bytes) return null;
  } catch {
    return null;
  }
  return { path, manifest };
}

const inFlight = new Map<string, Promise<BuiltClassifier>>();

/**
 * The classifier's ONNX file, converted first when missing, corrupt (sha256) or built by another
 * recipe. Concurrent calls in one process share one check or build; builds in other processes are
 * safe too (identical bytes, atomic renames).
 */
export function ensureClassifierModel(
  model: ClassifierModel,
  dir: string = DEFAULT_CLASSIFIERS_DIR,
  log: Log = console.log,
): Promise<BuiltClassifier> {
  const out = classifierDir(resolve(dir), model);
  const existing = inFlight.get(out);
  if (existing) return existing;
  const work = (async () => {
    const intact = await readIntact(out, model);
    if (intact) return intact;
    log(`classifier ${classifierId(model)} missing or stale in ${resolve(dir)}: converting`);
    return buildClassifierModel(model, resolve(dir), log);
  })().finally(() => inFlight.delete(out));
  inFlight.set(out, work);
  return work;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: "string" }, models: { type: "string" } },
  });
  const models = (values.models ?? ClassifierModel.options.join(","))
    .split(",")
    .map((m) => ClassifierModel.parse(m.trim()));
  for (const model of models) {
    await buildClassifierModel(model, resolve(values.out ?? DEFAULT_CLASSIFIERS_DIR));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
