import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SafetyClassifier } from "../moderation/safety-classifier.ts";

// Where tests cache the safety classifiers converted from nsfwjs: once per machine, reused while the
// files match their manifests and the conversion recipe is unchanged (ensureClassifierModel checks).

export const TEST_CLASSIFIERS_DIR = join(tmpdir(), "genart-test-classifiers");

/** A classifier that passes every image at once: "moderation off" for tests and benchmarks. */
export const passEverything = (id = "pass", side = 64): SafetyClassifier => ({
  id,
  side,
  classify: async (images) =>
    images.map(() => ({ drawing: 0, hentai: 0, neutral: 1, porn: 0, sexy: 0 })),
});
