import { copyFile, mkdir, readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ModelManifest } from "../../contracts/model-manifest.ts";
import type { Database } from "../../db/client/index.ts";
import { writeFileAtomic } from "../../regional-gpu/model-build/atomic-file.ts";
import { LocalModelStore } from "../../regional-gpu/models/model-store.ts";
import { loadVocabulary } from "../../regional-gpu/pipelines/vocabulary.ts";
import { openTextEncoder, TEXT_DIMS } from "../train/cppn-runtime.ts";
import { withPromptHead } from "../train/prompt-head-graph.ts";
import { registerCandidate } from "../train/register-version.ts";

// A deliberately worse version for the simulation: `parent` with its prompt head pushed hard toward
// dark palettes (what this population dislikes). It carries no lineage, like a version
// built or exported by hand, so no offline evaluation stands in its way: only the canary does.

export async function injectWorseVersion(
  db: Database,
  modelsDir: string,
  model: string,
  parentVersion: string,
  version: string,
): Promise<string> {
  const found = await new LocalModelStore(modelsDir).find(model, parentVersion);
  if (!found) throw new Error(`no ${model}@${parentVersion} in ${modelsDir}`);
  const parent = found.manifest;
  const parentBytes = new Uint8Array(await readFile(join(found.dir, parent.file)));
  const vocab = await loadVocabulary(
    join(found.dir, parent.tokenizer.file),
    parent.tokenizer.sha256,
  );
  const encoder = await openTextEncoder(parent, parentBytes, vocab);
  let cold: Float64Array;
  try {
    [cold] = (await encoder.encode([{ prompt: "black night shadow dark" }])) as [Float64Array];
  } finally {
    await encoder.close();
  }
  const bytes = withPromptHead(
    parentBytes,
    {
      dims: TEXT_DIMS,
      weights: new Float32Array(TEXT_DIMS * TEXT_DIMS),
      bias: Float32Array.from(cold, (x) => 3 * x),
    },
    version,
  );
  const dir = join(modelsDir, model, version);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, parent.file), bytes);
  await copyFile(join(found.dir, parent.tokenizer.file), join(dir, parent.tokenizer.file));
  const { lineage: _lineage, ...rest } = parent;
  const manifest = ModelManifest.parse({
    ...rest,
    version,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    bytes: bytes.byteLength,
    created_by: "flywheel/simulate/worse-version.ts (deliberately worse)",
  });
  await writeFileAtomic(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await registerCandidate(db, dir, manifest);
  return version;
}
