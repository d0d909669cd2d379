import type { Database } from "../../db/client/index.ts";
import { readSpendSnapshot } from "../../db/queries/usage-ledger.ts";
import type { Plan } from "../../db/schema/plans.ts";
import type { Log } from "../lib/log.ts";
import { ApiError } from "../errors/index.ts";
import { microusdToUsd } from "../generations/pricing.ts";
import { describeError } from "../lib/describe-error.ts";
import { DEFAULT_LIMITS_OPTIONS, monthOf } from "./account-limits.ts";
import type { AccountLimiter, AdmitDecision, AdmitRequest } from "./limiter-protocol.ts";
import { policyOf } from "./plan-checks.ts";
import { rateLimitHeaders } from "./rate-limit-headers.ts";

export interface AdmissionDeps {
  db: Database;
  limiter: AccountLimiter;
  clock: () => number;
  log: Log;
}

export interface Admission {
  accountId: string;
  plan: Plan;
  generationId: string;
  reserveMicrousd: number;
  /** False for answers that finish at once (the dedup cache): they take no concurrency slot. */
  slot: boolean;
  /** false: a refused admission of this request took its rate token already. */
  rateToken?: false;
}

/**
 * Takes the plan's rate token, concurrency slot and spend reservation for one generation, all or
 * nothing, from the account's limiter. Returns the RateLimit headers for the answer; throws 429
 * rate_limit_error (rate or concurrency, with Retry-After) or 402 quota_exceeded_error.
 */
export async function admitGeneration(
  admission: Admission,
  deps: AdmissionDeps,
): Promise<Record<string, string>> {
  const request: AdmitRequest = {
    generationId: admission.generationId,
    policy: policyOf(admission.plan),
    reserveMicrousd: admission.reserveMicrousd,
    slot: admission.slot,
    ...(admission.rateToken === false && { rateToken: false }),
  };
  let decision = await ask(deps, admission.accountId, request);
  if (decision.outcome === "unsynced") {
    // First use of this account by this limiter: start it from the ledger.
    const now = deps.clock();
    const monthStart = Date.parse(`${monthOf(now)}-01T00:00:00Z`);
    const snapshot = await readSpendSnapshot(deps.db, admission.accountId, {
      since: new Date(monthStart),
      openSince: new Date(now - DEFAULT_LIMITS_OPTIONS.holdTtlMs),
    });
    decision = await ask(deps, admission.accountId, {
      ...request,
      snapshot: { month: monthOf(now), ...snapshot },
    });
  }
  if (decision.outcome === "unsynced") {
    throw new Error("the account limiter stayed unsynced after a snapshot");
  }
  const headers = rateLimitHeaders(decision);
  if (decision.outcome === "admitted") return headers;
  throw refusal(decision, admission.plan, {
    ...headers,
    "Retry-After": String(decision.retryAfterS),
  });
}

async function ask(
  deps: AdmissionDeps,
  accountId: string,
  request: AdmitRequest,
): Promise<AdmitDecision> {
  try {
    return await deps.limiter.admit(accountId, request);
  } catch (err) {
    // Without the counters no limit can be promised: refuse rather than admit blindly.
    deps.log({ level: "error", msg: "account limiter failed", error: describeError(err) });
    throw new ApiError({
      type: "overloaded_error",
      code: "limiter_unavailable",
      message: "the account's limits cannot be checked right now; retry shortly",
      headers: { "Retry-After": "1" },
    });
  }
}

function refusal(
  decision: Extract<AdmitDecision, { outcome: "denied" }>,
  plan: Plan,
  headers: Record<string, string>,
): ApiError {
  switch (decision.reason) {
    case "rate":
      return new ApiError({
        type: "rate_limit_error",
        code: "rate_limit_exceeded",
        message: `the ${plan.name} plan allows ${plan.requestsPerMinute} requests per minute; retry in ${decision.retryAfterS} s`,
        headers,
      });
    case "concurrency":
      return new ApiError({
        type: "rate_limit_error",
        code: "concurrency_limit_exceeded",
        message: `the ${plan.name} plan allows ${plan.concurrency} generations queued or running at once; retry when one finishes`,
        headers,
      });
    case "spend":
      return new ApiError({
        type: "quota_exceeded_error",
        code: "monthly_spend_cap_exceeded",
        message: `this request would take the month's spend past the ${plan.name} plan's cap of $${microusdToUsd(decision.spend.capMicrousd ?? 0)} (spent or reserved: $${microusdToUsd(decision.spend.spentMicrousd)})`,
        headers,
      });
  }
}

/**
 * Gives an admission back (charged `chargedMicrousd`): after a generation ends, or when an
 * admitted request did not become one. `refundToken`: it was an Idempotency-Key replay, which
 * consumes nothing (its token comes back, admitted or refused). Retried, since a lost release
 * holds a slot until its lease runs out; failures end as a log line, never as the caller's error.
 */
export async function releaseAdmission(
  accountId: string,
  generationId: string,
  chargedMicrousd: number,
  deps: Pick<AdmissionDeps, "limiter" | "log">,
  { refundToken = false }: { refundToken?: boolean } = {},
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await deps.limiter.release(accountId, {
        generationId,
        chargedMicrousd,
        ...(refundToken && { refundToken }),
      });
      return;
    } catch (err) {
      if (attempt >= 3) {
        deps.log({
          level: "error",
          msg: "account limiter release failed",
          generation_id: generationId,
          error: describeError(err),
        });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
