import { join } from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import type { ModelManifest, PipelineKind } from "../../contracts/model-manifest.ts";
import { createCppnPipeline } from "../pipelines/cppn-text2img.ts";
import type { Pipeline } from "../pipelines/pipeline.ts";
import { loadVocabulary } from "../pipelines/vocabulary.ts";

// How the pool turns a loaded session into a runnable pipeline, per manifest `pipeline` kind. Keyed by
// every PipelineKind, so adding a kind to the manifest schema fails type-checking here until it is wired.

export interface PipelineSource {
  manifest: ModelManifest;
  /** Folder the manifest's relative paths resolve against. */
  dir: string;
  session: InferenceSession;
}

export type PipelineFactory = (source: PipelineSource) => Promise<Pipeline>;

export const PIPELINE_FACTORIES: Record<PipelineKind, PipelineFactory> = {
  "cppn-text2img": async ({ manifest, dir, session }) => {
    const { file, sha256 } = manifest.tokenizer;
    return createCppnPipeline(manifest, session, await loadVocabulary(join(dir, file), sha256));
  },
};
