import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Generation, GenerationList } from "../../contracts/api.ts";
import { GenerationEstimate, PriceList } from "../../contracts/pricing.ts";
import { BudgetList } from "../../contracts/projects.ts";
import { WebhookSecret } from "../../contracts/webhooks.ts";
import type { Database } from "../../db/client/index.ts";
import { seedPlans } from "../../db/queries/accounts.ts";
import { createApiKey } from "../../db/queries/api-keys.ts";
import { ledgerOf } from "../../db/queries/usage-ledger.ts";
import { upsertPrice } from "../../db/queries/prices.ts";
import type { NewPlan } from "../../db/schema/plans.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { seedAccount, seedModel } from "../testing/seed.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhook-receiver.ts";

// Prices as data, test mode, the plan's cost cap rule, budgets and their alerts, through the real
// app: a region stand-in that accepts jobs, signed events that finish them. The region's GPU price
// is 1 µUSD per GPU ms; 512x512 at 40 ms per megapixel is estimated at 11 µUSD.

let f: EdgeFixture;
let region: RegionStandIn;
let receiver: WebhookReceiver;
let modelVersionId: string;

beforeAll(async () => {
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  receiver = await startWebhookReceiver();
  f = await createEdgeFixture({ regions: [region.config], tuning: { regionCatalogTtlMs: 0 } });
  modelVersionId = (await seedModel(f.db)).id;
});
afterAll(async () => {
  await f?.close();
  await region?.close();
  await receiver?.close();
});
beforeEach(() => {
  region.jobs.length = 0;
});

let plans = 0;
async function accountOn(
  overrides: Partial<NewPlan>,
  mode: "live" | "test" = "live",
  db: Database = f.db,
) {
  const id = `price-plan-${(plans += 1)}`;
  await seedPlans(db, [
    {
      id,
      name: `Plan ${plans}`,
      requestsPerMinute: 1_000,
      concurrency: 100,
      monthlySpendCapMicrousd: null,
      maxPixels: 2048 * 2048,
      lanes: ["fast", "standard", "relax"],
      maxCostPerRequestMicrousd: null,
      priceMultiplier: 1,
      ...overrides,
    },
  ]);
  return seedAccount(db, { plan: id, mode });
}

const submit = (key: string, json: Record<string, unknown> = {}) =>
  f.call("/v1/generations", { method: "POST", key, json: { prompt: "a harbour", ...json } });

async function finish(gen: { id: string }, gpuMs: number, key: string) {
  const job = region.jobs.find((j) => j.job_id.startsWith(gen.id))!;
  const bytes = new TextEncoder().encode(`pixels ${gen.id}`);
  const res = await deliverEvent(
    f.app,
    TEST_SECRETS.regionSigning,
    succeededEvent(job, "eu-west", bytes, gpuMs),
  );
  expect(res.status).toBe(200);
  await f.tasks.drain(5_000);
  return Generation.parse(await (await f.call(`/v1/generations/${gen.id}`, { key })).json());
}

describe("prices as data", () => {
  it("a price row per model version x lane x region drives estimates, charges and GET /v1/pricing", async () => {
    await upsertPrice(f.db, {
      modelVersionId,
      lane: "fast",
      region: "eu-west",
      gpuSecondMicrousd: 2_000, // 2 µUSD per GPU ms
      megapixelMicrousd: 100,
      multiplier: 1,
    });
    const { key } = await accountOn({ priceMultiplier: 0.5 });
    const dry = await submit(key, { priority: "fast", dry_run: true });
    expect(dry.status).toBe(200);
    const estimate = GenerationEstimate.parse(await dry.json());
    // (10.49 ms x 2 µUSD + 0.262 MP x 100 µUSD) x 0.5 = 23.6 -> 24 µUSD.
    expect(estimate).toMatchObject({
      object: "generation_estimate",
      params: { priority: "fast", width: 512, height: 512 },
      region: "eu-west",
      cost: { estimated_usd: 0.000024 },
      livemode: true,
    });
    const gen = Generation.parse(await (await submit(key, { priority: "fast" })).json());
    expect(gen.cost.estimated_usd).toBe(0.000024);
    // Charged at the measured GPU time and the output's size (the stand-in reports 128x128):
    // (100 ms x 2 + 0.016 MP x 100) x 0.5 = 100.8 -> 101 µUSD.
    expect((await finish(gen, 100, key)).cost.actual_usd).toBe(0.000101);
    const standard = Generation.parse(await (await submit(key)).json());
    expect((await finish(standard, 100, key)).cost.actual_usd).toBe(0.00005); // 100 ms x 1 x 0.5

    const prices = PriceList.parse(await (await f.call("/v1/pricing", { key })).json());
    expect(prices.plan.price_multiplier).toBe(0.5);
    expect(prices.data.find((p) => p.lane === "fast")).toMatchObject({
      region: "eu-west",
      gpu_second_usd: 0.002,
      megapixel_usd: 0.0001,
      example_512_usd: 0.000024,
    });
    expect(prices.data.find((p) => p.lane === "standard")?.gpu_second_usd).toBe(0.001);
  });

  it("dry_run creates nothing and spends nothing; a blocked prompt is refused the same way", async () => {
    const { key, account } = await accountOn({});
    const before = GenerationList.parse(await (await f.call("/v1/generations", { key })).json());
    expect((await submit(key, { dry_run: true, seed: 5 })).status).toBe(200);
    await expectError(
      await submit(key, { dry_run: true, prompt: "kill them all with a gun, gore" }),
      422,
      "content_policy_violation",
    );
    const after = GenerationList.parse(await (await f.call("/v1/generations", { key })).json());
    expect(after.data).toHaveLength(before.data.length);
    expect(region.jobs).toHaveLength(0);
    const usage = await (await f.call("/v1/usage", { key })).json();
    expect(usage.totals.requests).toBe(0);
    expect(account.id).toMatch(/^acct_/);
  });
});

describe("the plan's cost per request", () => {
  it("over_cost_cap=relax: moved to the relax lane when that fits, and the answer says so", async () => {
    await upsertPrice(f.db, { lane: "relax", multiplier: 0.5 });
    const { key } = await accountOn({ maxCostPerRequestMicrousd: 8, overCostCap: "relax" });
    const res = await submit(key, { priority: "fast" });
    expect(res.status).toBe(202);
    const gen = Generation.parse(await res.json());
    expect(gen.params.priority).toBe("relax");
    expect(gen.lane_change).toEqual({ requested: "fast", reason: "cost_cap" });
    expect(region.jobs.at(-1)?.priority).toBe("relax");
    // Too big even for relax: refused.
    await expectError(
      await submit(key, { width: 1024, height: 1024 }),
      402,
      "quota_exceeded_error",
      "cost_limit_exceeded",
    );
  });

  it("over_cost_cap=refuse: 402 cost_limit_exceeded", async () => {
    const { key } = await accountOn({ maxCostPerRequestMicrousd: 8 });
    await expectError(await submit(key), 402, "quota_exceeded_error", "cost_limit_exceeded");
  });
});

describe("test mode", () => {
  it("is never charged, never counts against the spend cap, and is limited to 1024x1024", async () => {
    const live = await accountOn({ monthlySpendCapMicrousd: 5 });
    // The cap is below one image: live work is refused...
    await expectError(
      await submit(live.key),
      402,
      "quota_exceeded_error",
      "monthly_spend_cap_exceeded",
    );
    // ... test work on the same account is not, and costs nothing.
    const { key: testKey } = await createApiKey(f.db, { accountId: live.account.id, mode: "test" });
    const gen = Generation.parse(await (await submit(testKey)).json());
    expect(gen).toMatchObject({ livemode: false, cost: { estimated_usd: 0 } });
    const done = await finish(gen, 500, testKey);
    expect(done.cost).toMatchObject({ actual_usd: 0, gpu_ms: 500 });
    expect((await ledgerOf(f.db, gen.id)).reduce((a, r) => a + r.amountMicrousd, 0)).toBe(0);
    await expectError(
      await submit(testKey, { width: 2048, height: 1024 }),
      400,
      "invalid_request_error",
      "test_mode_size_limit",
    );
  });
});

describe("budgets", () => {
  it("an account budget with the stop rule refuses at 100% (402 budget_exceeded), exact in the limiter", async () => {
    const { key } = await accountOn({});
    const put = await f.call("/v1/budgets/account", {
      method: "PUT",
      key,
      json: { amount_usd: 0.00003, rule: "stop" },
    });
    expect(put.status).toBe(200);
    // 11 µUSD each: two fit in 30 µUSD, the third would pass it.
    expect((await submit(key)).status).toBe(202);
    expect((await submit(key)).status).toBe(202);
    const error = await expectError(
      await submit(key),
      402,
      "quota_exceeded_error",
      "budget_exceeded",
    );
    expect(error.message).toContain("$0.00003");
  });

  it("a project budget with the relax rule moves new work to the relax lane at 100%", async () => {
    const { key } = await accountOn({});
    const project = await (
      await f.call("/v1/projects", {
        method: "POST",
        key,
        json: { name: "Capped", monthly_budget: { amount_usd: 0.00002, rule: "relax" } },
      })
    ).json();
    const first = Generation.parse(await (await submit(key, { project: project.id })).json());
    expect(first.lane_change).toBeNull();
    const second = Generation.parse(await (await submit(key, { project: project.id })).json());
    expect(second.params.priority).toBe("relax");
    expect(second.lane_change).toEqual({ requested: "standard", reason: "budget" });
    // Outside the project the account is not limited.
    expect(Generation.parse(await (await submit(key)).json()).lane_change).toBeNull();
  });

  it("usage.threshold at 50/75/90/100%, signed, once per threshold per month", async () => {
    const { key } = await accountOn({});
    const secret = WebhookSecret.parse(await (await f.call("/v1/webhooks/secret", { key })).json());
    await f.call("/v1/budgets/account", {
      method: "PUT",
      key,
      json: { amount_usd: 0.0001, rule: "relax", webhook_url: receiver.url("/budget") },
    });
    const start = receiver.received.length;
    // 60 µUSD of 100: 50% crossed.
    await finish(Generation.parse(await (await submit(key)).json()), 60, key);
    await receiver.waitFor(start + 1);
    // 60 more: 120%, so 75, 90 and 100 at once.
    await finish(Generation.parse(await (await submit(key, { seed: 2 })).json()), 60, key);
    await receiver.waitFor(start + 4);
    // More spend past 100% sends nothing new.
    await finish(
      Generation.parse(await (await submit(key, { seed: 3, priority: "relax" })).json()),
      60,
      key,
    );
    await new Promise((r) => setTimeout(r, 200));
    const got = receiver.received.slice(start).filter((r) => r.path === "/budget");
    expect(got).toHaveLength(4);
    const verifier = new Webhook(secret.secret);
    const percents = got.map((hit) => {
      const payload = verifier.verify(hit.body, hit.headers as Record<string, string>) as {
        type: string;
        data: { percent: number; amount_usd: number; rule: string; rule_applies: boolean };
      };
      expect(payload.type).toBe("usage.threshold");
      expect(payload.data).toMatchObject({ amount_usd: 0.0001, rule: "relax" });
      return payload.data.percent;
    });
    expect(percents.sort((a, b) => a - b)).toEqual([50, 75, 90, 100]);
    const budgets = BudgetList.parse(await (await f.call("/v1/budgets", { key })).json());
    expect(budgets.data[0]!.thresholds.map((t) => t.percent)).toEqual([50, 75, 90, 100]);
    expect(budgets.data[0]!.spent_usd).toBeGreaterThan(0.0001);
  });
});

describe("budgets read once a minute (a warm isolate)", () => {
  it("a stop budget set here applies to the next submit at once, its budgets already read", async () => {
    const warm = await createEdgeFixture({
      regions: [region.config],
      tuning: { regionCatalogTtlMs: 60_000 },
    });
    try {
      await seedModel(warm.db);
      const { key } = await accountOn({}, "live", warm.db);
      const post = (json: Record<string, unknown> = {}) =>
        warm.call("/v1/generations", {
          method: "POST",
          key,
          json: { prompt: "a harbour", ...json },
        });
      // This isolate has read the account's budgets (none): 11 µUSD spent.
      expect((await post()).status).toBe(202);
      const put = await warm.call("/v1/budgets/account", {
        method: "PUT",
        key,
        json: { amount_usd: 0.00002, rule: "stop" },
      });
      expect(put.status).toBe(200);
      await expectError(await post({ seed: 2 }), 402, "quota_exceeded_error", "budget_exceeded");
    } finally {
      await warm.close();
    }
  });
});
