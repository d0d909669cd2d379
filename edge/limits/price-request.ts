import type { LaneChange, Priority } from "../../contracts/api.ts";
import { readMonthSpend } from "../../db/queries/usage.ts";
import type { Database } from "../../db/client/index.ts";
import type { Plan } from "../../db/schema/plans.ts";
import type { z } from "../../contracts/zod.ts";
import { ApiError, invalidRequest } from "../errors/index.ts";
import { microusdToUsd } from "../generations/pricing.ts";
import type { Caller } from "../middleware/auth/index.ts";
import type { PriceBook } from "../pricing/price-book.ts";
import { budgetExceeded, budgetVerdict, monthStart, type BudgetBook } from "./budgets.ts";

/** Test-mode keys run images up to this size (they are never charged): 1024x1024. */
export const TEST_MODE_MAX_PIXELS = 1024 * 1024;

export interface PriceRequestInput {
  caller: Caller;
  projectId: string | null;
  modelVersionId: string;
  gpuMsPerMegapixel: number | null;
  width: number;
  height: number;
  /** The lane the plan allows for the request (laneFor). */
  lane: Priority;
  /** The region expected to run it (price per region); null when none is known. */
  region: string | null;
}

export interface PriceRequestDeps {
  db: Database;
  prices: PriceBook;
  budgets: BudgetBook;
  clock: () => number;
}

export interface PricedRequest {
  /** What is reserved for it (0 in test mode), plan multiplier included. */
  estimateMicrousd: number;
  lane: Priority;
  laneChange: z.infer<typeof LaneChange> | null;
  /** The monthly cap the account limiter enforces: the plan's, or a lower `stop` budget's. */
  spendCapMicrousd: number | null;
  livemode: boolean;
}

/**
 * Prices a validated request and applies the rules that depend on its price, in order: test mode
 * (never charged, sizes up to TEST_MODE_MAX_PIXELS), the plan's cost per request (refused 402, or
 * moved to the relax lane when the plan says so), then the budgets (a `stop` budget refuses 402 at
 * 100%, a `relax` one moves the request to the relax lane). The answer says which lane and why.
 */
export async function priceRequest(
  input: PriceRequestInput,
  deps: PriceRequestDeps,
): Promise<PricedRequest> {
  const { plan } = input.caller;
  if (input.caller.apiKey.mode === "test") {
    checkTestModeSize(input.width, input.height);
    return {
      estimateMicrousd: 0,
      lane: input.lane,
      laneChange: null,
      spendCapMicrousd: plan.monthlySpendCapMicrousd,
      livemode: false,
    };
  }
  const estimateAt = (lane: Priority) =>
    deps.prices.estimate(
      {
        modelVersionId: input.modelVersionId,
        lane,
        region: input.region,
        gpuMsPerMegapixel: input.gpuMsPerMegapixel,
        width: input.width,
        height: input.height,
      },
      plan.priceMultiplier,
    );
  let lane = input.lane;
  let laneChange: PricedRequest["laneChange"] = null;
  let estimate = await estimateAt(lane);
  const perRequestCap = plan.maxCostPerRequestMicrousd;
  if (perRequestCap !== null && estimate > perRequestCap) {
    const relaxed = canRelax(plan, lane) ? await estimateAt("relax") : null;
    if (plan.overCostCap !== "relax" || relaxed === null || relaxed > perRequestCap) {
      throw costLimitExceeded(plan, relaxed ?? estimate, perRequestCap);
    }
    laneChange = { requested: lane, reason: "cost_cap" };
    lane = "relax";
    estimate = relaxed;
  }

  const budgets = await deps.budgets.for(input.caller.account.id, input.projectId);
  let spendCap = plan.monthlySpendCapMicrousd;
  if (budgets.length > 0) {
    const spend = await readMonthSpend(deps.db, {
      accountId: input.caller.account.id,
      projectId: input.projectId,
      since: monthStart(deps.clock()),
    });
    const verdict = budgetVerdict(budgets, spend, estimate);
    if (verdict.stop) throw budgetExceeded(verdict.stop, spend);
    if (verdict.relax && canRelax(plan, lane)) {
      laneChange = { requested: laneChange?.requested ?? lane, reason: "budget" };
      lane = "relax";
      estimate = await estimateAt("relax");
    }
    // The account's own stop budget is enforced by the limiter too: exact under concurrency.
    const own = budgets.find((b) => b.projectId === null && b.rule === "stop");
    if (own)
      spendCap = spendCap === null ? own.amountMicrousd : Math.min(spendCap, own.amountMicrousd);
  }
  return {
    estimateMicrousd: estimate,
    lane,
    laneChange,
    spendCapMicrousd: spendCap,
    livemode: true,
  };
}

const canRelax = (plan: Plan, lane: Priority) => lane !== "relax" && plan.lanes.includes("relax");

export function checkTestModeSize(width: number, height: number): void {
  if (width * height <= TEST_MODE_MAX_PIXELS) return;
  throw invalidRequest(
    "test_mode_size_limit",
    `test-mode keys run images up to ${TEST_MODE_MAX_PIXELS} pixels (1024x1024); ${width}x${height} needs a live key`,
    width >= height ? "width" : "height",
  );
}

/**
 * Over the plan's cost per request: 402, since the request is valid and only the plan's spending
 * rule refuses it (a plan with `over_cost_cap: relax` runs it in the relax lane instead, if that
 * brings it under).
 */
export function costLimitExceeded(plan: Plan, estimateMicrousd: number, capMicrousd: number) {
  return new ApiError({
    type: "quota_exceeded_error",
    code: "cost_limit_exceeded",
    message: `this request is estimated at $${microusdToUsd(estimateMicrousd)}; the ${plan.name} plan allows at most $${microusdToUsd(capMicrousd)} per request (use a smaller size${plan.lanes.includes("relax") ? " or the relax lane" : ""})`,
  });
}
