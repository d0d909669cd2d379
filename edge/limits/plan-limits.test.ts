import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { seedPlans } from "../../db/queries/accounts.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import { ledgerOf } from "../../db/queries/usage-ledger.ts";
import type { NewPlan } from "../../db/schema/plans.ts";
import { createApp } from "../app.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, failedEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { seedAccount } from "../testing/seed.ts";

// The plan's limits through the real app: real PGlite, a real region stand-in that accepts jobs and
// leaves them queued until the test posts their events, the in-process limiter on a frozen clock.

// Real time, frozen: the edge signs its calls to the region with this clock, and the region
// checks them against its own.
const T0 = Date.now();
let now = T0;
const clock = () => now;

let f: EdgeFixture;
let region: RegionStandIn;

// 512x512 at 40 GPU ms per megapixel and 1 µUSD per GPU ms: 10.49 ms, reserved as 11 µUSD.
const ESTIMATE_512 = 11;

beforeAll(async () => {
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({ regions: [region.config], clock });
});
afterAll(async () => {
  await f.close();
  await region.close();
});
beforeEach(() => {
  now = T0;
  region.mode = { kind: "accept" };
  region.jobs.length = 0;
});

let plans = 0;
/** A fresh account on a plan like `pro`, with the fields given overridden. */
async function accountOn(overrides: Partial<NewPlan>) {
  const id = `test-plan-${(plans += 1)}`;
  await seedPlans(f.db, [
    {
      id,
      name: `Plan ${plans}`,
      requestsPerMinute: 1_000,
      concurrency: 1_000,
      monthlySpendCapMicrousd: null,
      maxPixels: 2048 * 2048,
      lanes: ["fast", "standard", "relax"],
      maxCostPerRequestMicrousd: null,
      priceMultiplier: 1,
      ...overrides,
    },
  ]);
  return seedAccount(f.db, { plan: id });
}

const submit = (key: string, json: object = {}, headers: Record<string, string> = {}) =>
  f.call("/v1/generations", {
    method: "POST",
    key,
    // No seed: every submit is new work (the dedup cache never answers it).
    json: { prompt: "a lighthouse in the fog", ...json },
    headers,
  });

const jobOf = (id: string) => {
  const job = region.jobs.find((j) => j.job_id === id);
  if (!job) throw new Error(`no job for ${id}`);
  return job;
};
const succeed = (id: string, gpuMs: number) =>
  deliverEvent(
    f.app,
    TEST_SECRETS.regionSigning,
    succeededEvent(jobOf(id), "eu-west", new Uint8Array([1, 2, 3]), gpuMs),
  );
const fail = (id: string) =>
  deliverEvent(f.app, TEST_SECRETS.regionSigning, failedEvent(jobOf(id), "eu-west", false, "oom"));
const ledgerSum = async (id: string) =>
  (await ledgerOf(f.db, id)).reduce((sum, e) => sum + e.amountMicrousd, 0);

describe("plan limits: exact under concurrency", () => {
  it("100 concurrent submits against a key allowed 10 requests per minute: exactly 10 accepted", async () => {
    const { key, account } = await accountOn({ requestsPerMinute: 10 });
    const responses = await Promise.all(Array.from({ length: 100 }, () => submit(key)));
    const accepted = responses.filter((r) => r.status === 202);
    const refused = responses.filter((r) => r.status === 429);
    expect([accepted.length, refused.length]).toEqual([10, 90]);
    expect(region.jobs.filter((j) => j.account_id === account.id)).toHaveLength(10);

    const error = await expectError(refused[0]!, 429, "rate_limit_error", "rate_limit_exceeded");
    expect(error.message).toContain("10 requests per minute");
    // One token every 6 s; the bucket is full again 60 s after it emptied.
    expect(
      Object.fromEntries(
        ["retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"].map((h) => [
          h,
          refused[0]!.headers.get(h),
        ]),
      ),
    ).toEqual({
      "retry-after": "6",
      "ratelimit-limit": "10",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "60",
    });
    expect(refused[0]!.headers.get("ratelimit-policy")).toBe(
      '"rpm";q=10;w=60, "concurrency";q=1000;qu="concurrent-requests"',
    );
    expect(refused[0]!.headers.get("ratelimit")).toBe('"rpm";r=0;t=60, "concurrency";r=990');
    expect(accepted.map((r) => r.headers.get("ratelimit-limit"))).toEqual(Array(10).fill("10"));

    // 6 s later exactly one more token.
    now += 6_000;
    expect((await submit(key)).status).toBe(202);
    expect((await submit(key)).status).toBe(429);
  });

  it("100 concurrent submits against a key allowed 10 at once: exactly 10, a slot frees when one ends", async () => {
    const { key } = await accountOn({ concurrency: 10 });
    const responses = await Promise.all(Array.from({ length: 100 }, () => submit(key)));
    const accepted = responses.filter((r) => r.status === 202);
    expect(accepted).toHaveLength(10);
    const refused = responses.filter((r) => r.status === 429);
    expect(refused).toHaveLength(90);
    await expectError(refused[0]!, 429, "rate_limit_error", "concurrency_limit_exceeded");
    expect(refused[0]!.headers.get("retry-after")).toBe("1");

    const [first, second] = await Promise.all(accepted.slice(0, 2).map((r) => r.json()));
    expect((await succeed(first.id, 9)).status).toBe(200);
    expect((await submit(key)).status).toBe(202);
    expect((await submit(key)).status).toBe(429);
    expect((await fail(second.id)).status).toBe(200);
    expect((await submit(key)).status).toBe(202);
  });

  it("a restarted edge starts from the ledger: open work still holds its slots", async () => {
    const { key } = await accountOn({ concurrency: 2 });
    expect((await submit(key)).status).toBe(202);
    expect((await submit(key)).status).toBe(202);
    const restarted = createApp({
      db: f.db,
      assets: f.assets,
      regions: [region.config],
      secrets: TEST_SECRETS,
      publicUrl: "http://localhost",
      environment: "development",
      clock,
      log: () => {},
    });
    const res = await restarted.request("/v1/generations", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "after the restart" }),
    });
    await expectError(res, 429, "rate_limit_error", "concurrency_limit_exceeded");
  });
});

describe("plan limits: monthly spend, reserved then settled", () => {
  it("402 past the cap; a refund or a charge below the estimate makes room again", async () => {
    const { key } = await accountOn({ monthlySpendCapMicrousd: 3 * ESTIMATE_512 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await submit(key);
      expect(res.status).toBe(202);
      ids.push((await res.json()).id);
    }
    const over = await submit(key);
    const error = await expectError(
      over,
      402,
      "quota_exceeded_error",
      "monthly_spend_cap_exceeded",
    );
    expect(error.message).toContain("$0.000033");
    expect(region.jobs).toHaveLength(3);

    expect((await fail(ids[0]!)).status).toBe(200);
    expect((await submit(key)).status).toBe(202);
    expect((await submit(key)).status).toBe(402);
    // Settled below the estimate (5 µUSD charged of 11 reserved): 6 µUSD free again, not 11.
    expect((await succeed(ids[1]!, 5)).status).toBe(200);
    expect((await submit(key, { width: 128, height: 128 })).status).toBe(202);
  });

  it("the ledger sums to the charge after success (with the plan's multiplier), failure and cancel", async () => {
    const { key } = await accountOn({ priceMultiplier: 0.5 });
    const [ok, failed, canceled] = await Promise.all(
      [1, 2, 3].map(async () => Generation.parse(await (await submit(key)).json())),
    );
    // Estimates carry the multiplier too: ceil(10.49 x 0.5).
    expect(ok!.cost.estimated_usd).toBe(0.000006);
    for (const g of [ok!, failed!, canceled!]) {
      expect(await ledgerOf(f.db, g.id)).toMatchObject([{ kind: "reserve", amountMicrousd: 6 }]);
    }

    await succeed(ok!.id, 40);
    const settled = await getGeneration(f.db, ok!.id);
    // 40 GPU ms at 1 µUSD per ms, halved.
    expect(settled).toMatchObject({ status: "succeeded", gpuMs: 40, costActualMicrousd: 20 });
    expect(await ledgerOf(f.db, ok!.id)).toMatchObject([
      { kind: "reserve", amountMicrousd: 6 },
      { kind: "settle", amountMicrousd: 14, gpuMs: 40, region: "eu-west" },
    ]);
    expect(await ledgerSum(ok!.id)).toBe(20);

    await fail(failed!.id);
    expect(await ledgerOf(f.db, failed!.id)).toMatchObject([
      { kind: "reserve", amountMicrousd: 6 },
      { kind: "refund", amountMicrousd: -6 },
    ]);

    const cancel = () => f.call(`/v1/generations/${canceled!.id}/cancel`, { method: "POST", key });
    expect((await cancel()).status).toBe(200);
    expect((await cancel()).status).toBe(200);
    expect(await ledgerOf(f.db, canceled!.id)).toMatchObject([
      { kind: "reserve", amountMicrousd: 6 },
      { kind: "refund", amountMicrousd: -6 },
    ]);
    expect(await ledgerSum(failed!.id)).toBe(0);
    expect(await ledgerSum(canceled!.id)).toBe(0);

    // Repeated events change nothing.
    await succeed(ok!.id, 40);
    await fail(failed!.id);
    expect(await ledgerOf(f.db, ok!.id)).toHaveLength(2);
    expect(await ledgerOf(f.db, failed!.id)).toHaveLength(2);
  });
});

describe("plan limits: per request", () => {
  it("a lane the plan lacks is 403 priority_not_allowed; the free plan's default lane is standard", async () => {
    const free = await seedAccount(f.db, { plan: "free" });
    const error = await expectError(
      await submit(free.key, { priority: "fast" }),
      403,
      "permission_error",
      "priority_not_allowed",
    );
    expect(error).toMatchObject({ param: "priority" });
    expect(error.message).toContain("Free");
    const res = await submit(free.key, { priority: "relax" });
    expect(res.status).toBe(202);
    expect((await submit(free.key)).status).toBe(429); // free: one at a time
    await fail((await res.json()).id);
    const standard = await submit(free.key);
    expect((await standard.json()).params.priority).toBe("standard");
    const pro = await accountOn({});
    expect((await submit(pro.key, { priority: "fast" })).status).toBe(202);
    expect(region.jobs.filter((j) => j.priority === "fast")).toHaveLength(1);
  });

  it("past the plan's maximum pixels: 400 max_pixels_exceeded, nothing dispatched", async () => {
    const { key } = await accountOn({ maxPixels: 1024 * 1024 });
    expect((await submit(key, { width: 1024, height: 1024 })).status).toBe(202);
    const error = await expectError(
      await submit(key, { width: 1024, height: 1088 }),
      400,
      "invalid_request_error",
      "max_pixels_exceeded",
    );
    expect(error).toMatchObject({ param: "height" });
    expect(region.jobs).toHaveLength(1);
  });

  it("past the plan's cost per request: refused with 402 cost_limit_exceeded (the plan's rule: refuse)", async () => {
    const { key } = await accountOn({ maxCostPerRequestMicrousd: ESTIMATE_512 - 1 });
    const error = await expectError(
      await submit(key, { priority: "relax" }),
      402,
      "quota_exceeded_error",
      "cost_limit_exceeded",
    );
    expect(error.message).toContain("$0.000011");
    expect((await submit(key, { width: 256, height: 256 })).status).toBe(202);
    expect(region.jobs).toHaveLength(1);
  });
});
