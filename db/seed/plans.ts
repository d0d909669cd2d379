import type { NewPlan } from "../schema/plans.ts";

// The plans a fresh database starts with. Rows are the source of truth once seeded: `seedPlans`
// only inserts missing ones, so operators may tune a deployed plan without a code change.
export const DEFAULT_PLANS: readonly NewPlan[] = [
  {
    id: "free",
    name: "Free",
    requestsPerMinute: 10,
    concurrency: 1,
    monthlySpendCapMicrousd: 5_000_000, // $5
    maxPixels: 1024 * 1024,
    lanes: ["standard", "relax"],
    maxCostPerRequestMicrousd: 20_000, // $0.02
    priceMultiplier: 1,
  },
  {
    id: "pro",
    name: "Pro",
    requestsPerMinute: 120,
    concurrency: 8,
    monthlySpendCapMicrousd: 500_000_000, // $500
    maxPixels: 2048 * 2048,
    lanes: ["fast", "standard", "relax"],
    maxCostPerRequestMicrousd: 200_000, // $0.20
    priceMultiplier: 1,
  },
  {
    id: "enterprise",
    name: "Enterprise",
    requestsPerMinute: 1200,
    concurrency: 64,
    monthlySpendCapMicrousd: null, // invoiced
    maxPixels: 2048 * 2048,
    lanes: ["fast", "standard", "relax"],
    maxCostPerRequestMicrousd: null,
    priceMultiplier: 0.8,
  },
];
