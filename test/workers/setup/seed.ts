import type { RegionConfig } from "../../../contracts/region-protocol.ts";
import type { Database } from "../../../db/client/types.ts";
import { createApiKey, revokeApiKey } from "../../../db/queries/api-keys.ts";
import { seedPlans } from "../../../db/queries/accounts.ts";
import type { NewPlan } from "../../../db/schema/plans.ts";
import {
  ROOMY_TEST_PLAN,
  seedAccount,
  seedModel,
  seedRegions,
  seedRoomyPlan,
} from "../../../edge/testing/seed.ts";

/** The plan of TEST_LIMITED_API_KEY: exactly 10 generations queued or running at once. */
export const LIMITED_TEST_PLAN: NewPlan = {
  ...ROOMY_TEST_PLAN,
  id: "test-limited-10",
  name: "Test (10 at once)",
  concurrency: 10,
  lanes: ["fast", "standard", "relax"],
};

// What the workerd tests need on top of the migrated database and its plans: the default model, the regions with prices,
// one account with two live keys and a revoked one, and an account on a plan allowing 10 at once. Keys are hashed with
// the pepper the Worker is given.

export interface WorkerTestSeed {
  apiKey: string;
  /** A live key no test uses before the concurrency test: its first lookups race. */
  freshApiKey: string;
  revokedApiKey: string;
  /** The only key of an account whose plan allows 10 generations at once. */
  limitedApiKey: string;
}

export async function seedWorkerTestData(
  db: Database,
  opts: { pepper: string; regions: readonly RegionConfig[] },
): Promise<WorkerTestSeed> {
  await seedModel(db);
  await seedRegions(db, opts.regions);
  // A roomy plan: the tests leave many generations queued, more than `pro` allows at once.
  await seedRoomyPlan(db);
  const { account, key } = await seedAccount(db, { plan: ROOMY_TEST_PLAN.id, pepper: opts.pepper });
  const fresh = await createApiKey(db, { accountId: account.id, mode: "test" }, opts.pepper);
  const revoked = await createApiKey(db, { accountId: account.id, mode: "test" }, opts.pepper);
  await revokeApiKey(db, account.id, revoked.record.id);
  await seedPlans(db, [LIMITED_TEST_PLAN]);
  const limited = await seedAccount(db, { plan: LIMITED_TEST_PLAN.id, pepper: opts.pepper });
  return {
    apiKey: key,
    freshApiKey: fresh.key,
    revokedApiKey: revoked.key,
    limitedApiKey: limited.key,
  };
}
