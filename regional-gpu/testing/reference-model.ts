import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import {
  ensureReferenceModel,
  MODEL_VERSION,
  type ReferenceVersion,
} from "../model-build/build-reference-model.ts";

// The real reference model for tests, built once per machine into a temp folder and reused while its
// files still match their sha256 (ensureReferenceModel checks; concurrent builds are safe).

export const TEST_MODELS_DIR = join(tmpdir(), "genart-test-models");

export interface TestModel {
  modelsDir: string;
  manifest: ModelManifest;
  /** name@version */
  ref: string;
}

/** A version of the reference model (default: the first, which takes no style). */
export async function referenceModel(
  version: ReferenceVersion = MODEL_VERSION,
): Promise<TestModel> {
  const { manifest } = await ensureReferenceModel(TEST_MODELS_DIR, () => {}, version);
  return { modelsDir: TEST_MODELS_DIR, manifest, ref: `${manifest.name}@${manifest.version}` };
}
