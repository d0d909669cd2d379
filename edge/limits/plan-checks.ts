import type { Priority } from "../../contracts/api.ts";
import type { Plan } from "../../db/schema/plans.ts";
import { ApiError, invalidRequest } from "../errors/index.ts";
import type { LimiterPolicy } from "./limiter-protocol.ts";

// The checks a plan makes on one request, before any counter is touched. Refusals name the plan
// and the limit, so the caller knows whether to change the request or the plan.

/** The lane used when the request names none: standard, or the plan's slowest if it lacks it. */
export function defaultLane(plan: Plan): Priority {
  return plan.lanes.includes("standard") ? "standard" : (plan.lanes.at(-1) ?? "standard");
}

/**
 * The request's lane if the plan has it. A lane the plan lacks (the free plan asking `fast`) is
 * 403 permission_error `priority_not_allowed`: the request is valid, the plan does not permit it.
 */
export function laneFor(plan: Plan, requested: Priority | undefined): Priority {
  if (requested === undefined) return defaultLane(plan);
  if (plan.lanes.includes(requested)) return requested;
  throw new ApiError({
    type: "permission_error",
    code: "priority_not_allowed",
    message: `the ${plan.name} plan does not include the '${requested}' lane (it has: ${plan.lanes.join(", ")})`,
    param: "priority",
  });
}

/** 400 `max_pixels_exceeded` past the plan's maximum image size. */
export function checkPixels(plan: Plan, width: number, height: number): void {
  if (width * height <= plan.maxPixels) return;
  throw invalidRequest(
    "max_pixels_exceeded",
    `${width}x${height} is ${width * height} pixels; the ${plan.name} plan allows at most ${plan.maxPixels}`,
    width >= height ? "width" : "height",
  );
}

export const policyOf = (plan: Plan): LimiterPolicy => ({
  requestsPerMinute: plan.requestsPerMinute,
  concurrency: plan.concurrency,
  monthlySpendCapMicrousd: plan.monthlySpendCapMicrousd,
});
