import type { AdmitDecision } from "./limiter-protocol.ts";

type Quotas = Extract<AdmitDecision, { outcome: "admitted" | "denied" }>;

/**
 * Response headers describing the account's limits, in two forms:
 * - `RateLimit-Policy` / `RateLimit`, the structured fields of draft-ietf-httpapi-ratelimit-headers
 *   (-08 onwards): policy "rpm" (q requests per w=60 s window, token bucket) and policy
 *   "concurrency" (q concurrent requests);
 * - `RateLimit-Limit` / `-Remaining` / `-Reset` (earlier drafts; what most clients read today) for
 *   the requests-per-minute policy. Reset is the seconds until the bucket is full again.
 */
export function rateLimitHeaders(decision: Quotas): Record<string, string> {
  const { rate, concurrency } = decision;
  return {
    "RateLimit-Policy": `"rpm";q=${rate.limit};w=60, "concurrency";q=${concurrency.limit};qu="concurrent-requests"`,
    RateLimit: `"rpm";r=${rate.remaining};t=${rate.resetS}, "concurrency";r=${concurrency.remaining}`,
    "RateLimit-Limit": String(rate.limit),
    "RateLimit-Remaining": String(rate.remaining),
    "RateLimit-Reset": String(rate.resetS),
  };
}
