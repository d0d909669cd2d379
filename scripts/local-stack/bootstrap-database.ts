import { createDatabase, type DatabaseHandle } from "../../db/client/index.ts";
import { migrateDatabase } from "../../db/migrate.ts";
import { seedPlans } from "../../db/queries/accounts.ts";
import { seedPrices } from "../../db/queries/prices.ts";
import { upsertRegion } from "../../db/queries/regions.ts";
import { registerModelVersions } from "../register-models.ts";
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
    await seedPrices(handle.db);
    await registerModelVersions(handle, opts.modelDir);
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
