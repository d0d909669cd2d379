import { tmpdir } from "node:os";
import { join } from "node:path";

// Where tests cache the safety classifiers converted from nsfwjs: once per machine, reused while the
// files match their manifests and the conversion recipe is unchanged (ensureClassifierModel checks).

export const TEST_CLASSIFIERS_DIR = join(tmpdir(), "genart-test-classifiers");
