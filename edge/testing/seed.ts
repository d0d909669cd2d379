import type { Database } from "../../db/client/index.ts";
import { createAccount } from "../../db/queries/accounts.ts";
import { createApiKey } from "../../db/queries/api-keys.ts";
import { upsertModelVersion } from "../../db/queries/models.ts";
import { upsertRegion } from "../../db/queries/regions.ts";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import { seedPlans } from "../../db/queries/accounts.ts";
import type { NewPlan } from "../../db/schema/plans.ts";

export const TEST_MODEL = { name: "cppn-glove", version: "2026-11-27.1", gpuMsPerMegapixel: 40 };
export const TEST_GPU_PRICE_PER_HOUR_MICROUSD = 3_600_000; // $3.60/h: 1 µUSD per GPU ms

/**
 * A plan whose limits ordinary edge tests never reach, so they are not refused by the plan's rate
 * or concurrency as they pile up queued generations. Tests of the limits seed their own plans.
 */
export const ROOMY_TEST_PLAN = {
  id: "test-roomy",
  name: "Test (roomy)",
  requestsPerMinute: 100_000,
  concurrency: 10_000,
  monthlySpendCapMicrousd: null,
  maxPixels: 2048 * 2048,
  lanes: ["fast", "standard", "relax"],
  maxCostPerRequestMicrousd: null,
  priceMultiplier: 1,
} as const satisfies NewPlan;

export async function seedRoomyPlan(db: Database): Promise<void> {
  await seedPlans(db, [{ ...ROOMY_TEST_PLAN, lanes: [...ROOMY_TEST_PLAN.lanes] }]);
}

/**
 * An account on `plan` with one key (live unless `mode` says test: test keys are never charged);
 * the plaintext key is returned for Authorization.
 */
export async function seedAccount(
  db: Database,
  opts: { plan?: string; pepper?: string; mode?: "live" | "test"; scopes?: string[] } = {},
) {
  const account = await createAccount(db, { name: "Test account", planId: opts.plan ?? "pro" });
  const { key, record } = await createApiKey(
    db,
    { accountId: account.id, mode: opts.mode ?? "live", scopes: opts.scopes },
    opts.pepper,
  );
  return { account, key, apiKey: record };
}

/** The default model with its default version, as the model build registers it. */
export async function seedModel(db: Database) {
  return upsertModelVersion(db, {
    model: TEST_MODEL.name,
    version: TEST_MODEL.version,
    sha256: "a".repeat(64),
    uri: "file:///models/cppn-glove/model.onnx",
    bytes: 1234,
    pipeline: "cppn",
    status: "default",
    gpuMsPerMegapixel: TEST_MODEL.gpuMsPerMegapixel,
    pricePerMegapixelMicrousd: 40,
    manifest: {},
  });
}

export async function seedRegions(db: Database, regions: readonly RegionConfig[]) {
  for (const r of regions) {
    await upsertRegion(db, {
      name: r.name,
      endpoint: r.endpoint,
      lat: r.lat,
      lon: r.lon,
      gpuPricePerHourMicrousd: TEST_GPU_PRICE_PER_HOUR_MICROUSD,
    });
  }
}
