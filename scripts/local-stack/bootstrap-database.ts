import { pathToFileURL } from "node:url";
import { createDatabase, type DatabaseHandle } from "../../db/client/index.ts";
import { migrateDatabase } from "../../db/migrate.ts";
import { seedPlans } from "../../db/queries/accounts.ts";
import { upsertModelVersion } from "../../db/queries/models.ts";
import { upsertRegion } from "../../db/queries/regions.ts";
import {
  DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD,
  gpuCostMicrousd,
} from "../../edge/generations/pricing.ts";
import { LocalModelStore } from "../../regional-gpu/models/model-store.ts";
import type { LocalRegion } from "./stack-config.ts";

/**
 * Opens the embedded database, applies migrations, seeds plans, and registers what the local stack
 * serves: every model version found in the model folder (active) and the local regions.
 */
export async function bootstrapDatabase(opts: {
  dataDir: string;
  modelDir: string;
  regions: LocalRegion[];
}): Promise<DatabaseHandle> {
  const handle = await createDatabase({ kind: "pglite", dataDir: `${opts.dataDir}/db` });
  try {
    await migrateDatabase(handle);
    await seedPlans(handle.db);
    await registerModels(handle, opts.modelDir);
    for (const r of opts.regions) {
      await upsertRegion(handle.db, {
        name: r.config.name,
        endpoint: r.config.endpoint,
        lat: r.config.lat,
        lon: r.config.lon,
        gpuPricePerHourMicrousd: r.gpuPricePerHourMicrousd,
      });
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function registerModels(handle: DatabaseHandle, modelDir: string): Promise<void> {
  const store = new LocalModelStore(modelDir);
  for (const ref of await store.list()) {
    const [name, version] = ref.split("@") as [string, string];
    const found = await store.find(name, version);
    if (!found) continue;
    const { manifest, dir } = found;
    await upsertModelVersion(handle.db, {
      model: manifest.name,
      version: manifest.version,
      sha256: manifest.sha256,
      uri: pathToFileURL(`${dir}/${manifest.file}`).href,
      bytes: manifest.bytes,
      pipeline: manifest.pipeline,
      status: "active",
      trafficShare: 1,
      gpuMsPerMegapixel: manifest.gpu_ms_per_megapixel,
      pricePerMegapixelMicrousd: gpuCostMicrousd(
        manifest.gpu_ms_per_megapixel,
        DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD,
      ),
      manifest,
    });
  }
}
