// `npm run db:register-models [-- --model-dir <dir>]`: registers every model version built in the
// model folder (default .data/models; `npm run model:build` makes the reference one) in the database
// at DATABASE_URL (default: the local stack's PGlite folder), as a version the edge runs. The
// local stack does this at every start; a deployed database needs it once, before its first
// generation. A version already registered is left as it is (its rollout state included); a
// different artifact under an existing name@version is refused. Later versions go out as canaries
// (docs/operations.md, "Roll a new model version").
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { DatabaseHandle } from "../db/client/index.ts";
import { listModels, ModelVersionConflictError, upsertModelVersion } from "../db/queries/models.ts";
import {
  DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD,
  gpuCostMicrousd,
} from "../edge/generations/pricing.ts";
import { LocalModelStore } from "../regional-gpu/models/model-store.ts";

/**
 * Registers each version in `modelDir`, built ones as the default and trained ones (their manifest
 * has a lineage) as candidates, which reach traffic only through a rollout; returns their
 * `name@version`. With
 * `keepExisting`, versions the database already has are skipped (after checking their sha256)
 * instead of being made active again.
 */
export async function registerModelVersions(
  handle: DatabaseHandle,
  modelDir: string,
  { keepExisting = false } = {},
): Promise<string[]> {
  const store = new LocalModelStore(modelDir);
  const existing = new Map<string, string>();
  if (keepExisting) {
    for (const model of await listModels(handle.db)) {
      for (const v of model.versions) existing.set(`${model.name}@${v.version}`, v.sha256);
    }
  }
  const registered: string[] = [];
  for (const ref of await store.list()) {
    const [name, version] = ref.split("@") as [string, string];
    const found = await store.find(name, version);
    if (!found) continue;
    const { manifest, dir } = found;
    const known = existing.get(ref);
    if (known !== undefined) {
      if (known !== manifest.sha256) throw new ModelVersionConflictError(name, version);
      continue;
    }
    await upsertModelVersion(handle.db, {
      model: manifest.name,
      version: manifest.version,
      sha256: manifest.sha256,
      uri: pathToFileURL(`${dir}/${manifest.file}`).href,
      bytes: manifest.bytes,
      pipeline: manifest.pipeline,
      status: manifest.lineage ? "candidate" : "default",
      gpuMsPerMegapixel: manifest.gpu_ms_per_megapixel,
      pricePerMegapixelMicrousd: gpuCostMicrousd(
        manifest.gpu_ms_per_megapixel,
        DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD,
      ),
      manifest,
    });
    registered.push(ref);
  }
  return registered;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { "model-dir": { type: "string", default: ".data/models" } },
  });
  const { createDatabase } = await import("../db/client/index.ts");
  const handle = await createDatabase(process.env.DATABASE_URL || "pglite://.data/db");
  try {
    const dir = resolve(values["model-dir"]);
    if ((await new LocalModelStore(dir).list()).length === 0) {
      throw new Error(`no model version in ${dir}: run npm run model:build`);
    }
    const registered = await registerModelVersions(handle, dir, { keepExisting: true });
    console.log(JSON.stringify({ msg: "model versions registered", registered }));
  } finally {
    await handle.close();
  }
}

if (import.meta.main) {
  await main().catch((error: unknown) => {
    console.error(`register-models: ${(error as Error).message}`);
    process.exit(1);
  });
}
