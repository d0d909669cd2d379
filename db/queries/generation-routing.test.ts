import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../contracts/ids.ts";
import type { GenerationRouting } from "../../contracts/api.ts";
import type { Account } from "../schema/accounts.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import { insertGenerationOnce } from "./generation-dedup.ts";
import { recordGenerationRoute } from "./generation-routing.ts";
import { cancelGeneration, getGeneration } from "./generations.ts";

let handle: PgliteHandle;
let account: Account;
beforeAll(async () => {
  handle = await createTestDatabase();
  account = await createAccount(handle.db, { name: "routing", planId: "pro" });
});
afterAll(async () => {
  await handle?.close();
});

async function queued() {
  const made = await insertGenerationOnce(handle.db, {
    id: newId("generation"),
    accountId: account.id,
    model: "cppn-glove",
    modelVersion: "2026-11-27.1",
    prompt: "route me",
    params: { width: 512, height: 512, seed: 1, priority: "standard" },
  });
  if (made.kind !== "created") throw new Error("expected a new generation");
  return made.generation;
}

const lease = (region: string) => ({
  jobId: `job-${region}`,
  leaseHolder: `${region}-node`,
  leaseExpiresAt: new Date("2026-11-27T12:05:00.000Z"),
});

const routing = (region: string): GenerationRouting => ({
  region,
  job_id: `job-${region}`,
  decided_at: "2026-11-27T12:00:00.000Z",
  candidates: [],
});

describe("recordGenerationRoute", () => {
  it("stores each call's region, estimate, price and decision, and moves updated_at", async () => {
    const [a, b] = [await queued(), await queued()];
    const at = new Date("2026-11-27T12:00:01.234Z");
    const first = await recordGenerationRoute(handle.db, a.id, {
      region: "eu-west",
      estimatedWaitMs: 120,
      costEstimatedMicrousd: 400,
      routing: routing("eu-west"),
      at,
      ...lease("eu-west"),
    });
    expect(first).toMatchObject({
      id: a.id,
      region: "eu-west",
      routedAt: at,
      estimatedWaitMs: 120,
      costEstimatedMicrousd: 400,
      routing: routing("eu-west"),
      ...lease("eu-west"),
    });
    expect(first!.updatedAt.getTime()).toBeGreaterThanOrEqual(a.updatedAt.getTime());
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await recordGenerationRoute(handle.db, b.id, {
      region: "us-east",
      estimatedWaitMs: null,
      costEstimatedMicrousd: 500,
      routing: routing("us-east"),
      at: new Date("2026-11-27T12:00:02.000Z"),
      ...lease("us-east"),
      leaseHolder: null,
    });
    expect(second).toMatchObject({ id: b.id, region: "us-east", estimatedWaitMs: null });
    // Built once, but updated_at is this call's, not the first call's.
    expect(second!.updatedAt.getTime()).toBeGreaterThan(first!.updatedAt.getTime());
    expect(await getGeneration(handle.db, a.id)).toMatchObject({ region: "eu-west" });
  });

  it("changes nothing once the generation has left `queued`", async () => {
    const g = await queued();
    await cancelGeneration(handle.db, account.id, g.id);
    expect(
      await recordGenerationRoute(handle.db, g.id, {
        region: "eu-west",
        estimatedWaitMs: 1,
        costEstimatedMicrousd: 1,
        routing: routing("eu-west"),
        at: new Date(),
        ...lease("eu-west"),
      }),
    ).toBeNull();
    expect(await getGeneration(handle.db, g.id)).toMatchObject({
      status: "canceled",
      region: null,
    });
  });

  it("changes nothing while another dispatch holds the job", async () => {
    const g = await queued();
    const record = (region: string) =>
      recordGenerationRoute(handle.db, g.id, {
        region,
        estimatedWaitMs: 1,
        costEstimatedMicrousd: 1,
        routing: routing(region),
        at: new Date(),
        ...lease(region),
      });
    expect(await record("eu-west")).toMatchObject({ jobId: "job-eu-west" });
    // The same dispatch again (its answer recorded twice) is fine; another one is not.
    expect(await record("eu-west")).toMatchObject({ jobId: "job-eu-west" });
    expect(await record("us-east")).toBeNull();
    expect(await getGeneration(handle.db, g.id)).toMatchObject({ region: "eu-west" });
  });
});
