import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import type { Sharp } from "sharp";
import { createCppnPipeline } from "../pipelines/cppn-text2img.ts";
import type { Pipeline, RawImage } from "../pipelines/pipeline.ts";
import { loadVocabulary } from "../pipelines/vocabulary.ts";
import { ensureReferenceModel, type ReferenceVersion } from "./build-reference-model.ts";

// Shared by the sample-rendering scripts: the reference model on the CPU, and PNG output.

export interface SampleRenderer {
  pipeline: Pipeline;
  close(): Promise<void>;
}

export async function openReferencePipeline(version?: ReferenceVersion): Promise<SampleRenderer> {
  const { manifestPath, manifest } = await ensureReferenceModel(
    undefined,
    (l) => console.error(l),
    version,
  );
  const dir = dirname(manifestPath);
  const session = await InferenceSession.create(join(dir, manifest.file), {
    executionProviders: ["cpu"],
  });
  const vocab = await loadVocabulary(join(dir, manifest.tokenizer.file), manifest.tokenizer.sha256);
  return { pipeline: createCppnPipeline(manifest, session, vocab), close: () => session.release() };
}

export function rawInput(image: RawImage) {
  return { raw: { width: image.width, height: image.height, channels: image.channels } };
}

export async function writePng(image: Sharp, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await image.png({ compressionLevel: 9 }).toFile(path);
}

/** Runs `main` with the CLI arguments, printing only the message of an expected failure. */
export function runCli(main: (argv: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
