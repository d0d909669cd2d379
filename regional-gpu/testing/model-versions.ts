import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import type { TestModel } from "./reference-model.ts";

// Extra model versions for tests, made from the reference model: the same files under another
// version (several versions side by side), or another graph under a manifest that declares the
// reference model's inputs (a model whose inputs do not match its manifest).

export interface VersionOptions {
  /** Replaces model.onnx; the manifest's sha256 and bytes follow it. */
  graph?: Uint8Array;
  /** Only the manifest is written (a version whose files were never fetched). */
  manifestOnly?: boolean;
  /** Fields that replace the reference manifest's (e.g. `upscale`). */
  manifest?: Partial<ModelManifest>;
}

/** Writes `<root>/<name>/<version>/` from the reference model; answers the manifest written. */
export async function writeModelVersion(
  model: TestModel,
  root: string,
  version: string,
  opts: VersionOptions = {},
): Promise<ModelManifest> {
  const { name, file, tokenizer } = model.manifest;
  const from = join(model.modelsDir, name, model.manifest.version);
  const to = join(root, name, version);
  await mkdir(to, { recursive: true });
  const manifest: ModelManifest = { ...model.manifest, ...opts.manifest, version };
  if (opts.graph) {
    manifest.sha256 = createHash("sha256").update(opts.graph).digest("hex");
    manifest.bytes = opts.graph.byteLength;
  }
  await writeFile(join(to, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  if (opts.manifestOnly) return manifest;
  await copyFile(join(from, tokenizer.file), join(to, tokenizer.file));
  if (opts.graph) await writeFile(join(to, file), opts.graph);
  else await copyFile(join(from, file), join(to, file));
  return manifest;
}

/** Flips the last byte of a file in place. */
export async function corruptFile(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[bytes.length - 1]! ^= 0xff;
  await writeFile(path, bytes);
}
