import type { GenerationRouting, RouteCandidate } from "../../contracts/api.ts";
import type { DispatchAttempt, DispatchResult } from "./dispatch.ts";
import type { RegionDirectory } from "./region-directory.ts";
import type { RouteRequest, RoutePlan, ScoredRegion } from "./route-plan.ts";

/** The decision as the caller sees it: every region's scores, in the order considered, and outcome. */
export function routingRecord(
  plan: RoutePlan,
  result: DispatchResult,
  jobId: string,
  at: Date,
): GenerationRouting {
  const outcomes = new Map(result.attempts.map((a) => [a.region, a.outcome]));
  const candidate = (s: ScoredRegion, fallback: RouteCandidate["outcome"]): RouteCandidate => ({
    region: s.config.name,
    state: s.state,
    expected_ms: Math.round(s.expectedMs),
    rtt_ms: s.rttMs === null ? null : Math.round(s.rttMs),
    queue_ms: Math.round(s.queueMs),
    cold_ms: Math.round(s.coldMs),
    outcome: outcomes.get(s.config.name) ?? fallback,
  });
  return {
    region: result.kind === "accepted" ? result.region.name : null,
    job_id: jobId,
    decided_at: at.toISOString(),
    candidates: [
      ...plan.candidates.map((s) => candidate(s, "not_tried")),
      ...plan.skipped.map((s) => candidate(s, "skipped")),
    ],
  };
}

/**
 * A decision no region has answered yet: `region` null, every candidate `not_tried`. Written with
 * a new generation's row, before its dispatch (edge/generations/dispatch-generation.ts).
 */
export function pendingRouting(plan: RoutePlan, jobId: string, at: Date): GenerationRouting {
  return routingRecord(plan, { kind: "exhausted", retryAfterS: 0, attempts: [] }, jobId, at);
}

/** Feeds the round trips of the attempts that got an answer back into the directory's estimates. */
export function observeRoundTrips(
  directory: RegionDirectory,
  request: Pick<RouteRequest, "client" | "colo">,
  attempts: readonly DispatchAttempt[],
): void {
  for (const attempt of attempts) {
    if (attempt.elapsedMs === undefined) continue;
    directory.observeRtt(request.colo, attempt.region, attempt.elapsedMs, request.client);
  }
}
