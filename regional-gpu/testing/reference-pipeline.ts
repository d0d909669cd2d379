import { join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import type { ReferenceVersion } from "../model-build/build-reference-model.ts";
import { createCppnPipeline } from "../pipelines/cppn-text2img.ts";
import type { Pipeline } from "../pipelines/pipeline.ts";
import { loadVocabulary } from "../pipelines/vocabulary.ts";
import { referenceModel } from "./reference-model.ts";

// A reference model version as a pipeline on ONNX Runtime's CPU provider, for tests that draw.

export interface OpenPipeline {
  pipeline: Pipeline;
  close(): Promise<void>;
}

export async function openReferencePipeline(version?: ReferenceVersion): Promise<OpenPipeline> {
  const { modelsDir, manifest } = await referenceModel(version);
  const dir = join(modelsDir, manifest.name, manifest.version);
  const vocab = await loadVocabulary(join(dir, manifest.tokenizer.file), manifest.tokenizer.sha256);
  const session = await InferenceSession.create(join(dir, manifest.file), {
    executionProviders: ["cpu"],
  });
  return { pipeline: createCppnPipeline(manifest, session, vocab), close: () => session.release() };
}
