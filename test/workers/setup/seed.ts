import type { RegionConfig } from "../../../contracts/region-protocol.ts";
import type { Database } from "../../../db/client/types.ts";
import { seedPlans } from "../../../db/queries/accounts.ts";
import { createApiKey, revokeApiKey } from "../../../db/queries/api-keys.ts";
import { seedAccount, seedModel, seedRegions } from "../../../edge/testing/seed.ts";

// What the workerd tests need in the database: plans, the default model, the regions with prices,
// one account with two live keys and a revoked one. Keys are hashed with the pepper the Worker is given.

export interface WorkerTestSeed {
  apiKey: string;
  /** A live key no test uses before the concurrency test: its first lookups race. */
  freshApiKey: string;
  revokedApiKey: string;
}

export async function seedWorkerTestData(
  db: Database,
  opts: { pepper: string; regions: readonly RegionConfig[] },
): Promise<WorkerTestSeed> {
  await seedPlans(db);
  await seedModel(db);
  await seedRegions(db, opts.regions);
  const { account, key } = await seedAccount(db, { plan: "pro", pepper: opts.pepper });
  const fresh = await createApiKey(db, { accountId: account.id, mode: "test" }, opts.pepper);
  const revoked = await createApiKey(db, { accountId: account.id, mode: "test" }, opts.pepper);
  await revokeApiKey(db, account.id, revoked.record.id);
  return { apiKey: key, freshApiKey: fresh.key, revokedApiKey: revoked.key };
}
