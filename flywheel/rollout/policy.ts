// When the rollout controller promotes or rolls back a canary, pure (docs/flywheel.md states it):
//
//  1. Safety first, on any sample: roll back when the canary's failure rate or report rate is,
//     with 95% confidence (Wilson lower bound), above its limit.
//  2. Preference, once both the canary and the default have `minSample` (fraud-weighted) likes and
//     dislikes in the comparison window (since the canary started): a two-proportion z-test on the
//     approval rate, likes / (likes + dislikes). z >= zPromote: promote; z <= -zPromote: roll back
//     (users prefer the default). zPromote = 2.326 (one-sided alpha 0.01): the controller looks
//     again after every batch of traffic, and the stricter level keeps repeated looks honest.
//  3. No clear winner once both have `maxSample` votes: roll back (the canary is not measurably
//     better, so the default stays and the comparison traffic stops).
//  Otherwise: hold.

export interface VersionStats {
  /** Succeeded, live generations in the window. */
  served: number;
  /** Failed generations in the window (the model's or the region's fault, not the caller's). */
  failed: number;
  /** Fraud-weighted votes from accounts whose feedback counts. */
  likes: number;
  dislikes: number;
  reports: number;
  refines: number;
}

export interface RolloutPolicy {
  minSample: number;
  maxSample: number;
  zPromote: number;
  maxReportRate: number;
  maxFailureRate: number;
}

export const DEFAULT_ROLLOUT_POLICY: RolloutPolicy = {
  minSample: 200,
  maxSample: 5_000,
  zPromote: 2.326,
  maxReportRate: 0.02,
  maxFailureRate: 0.05,
};

export type RolloutDecision = {
  action: "promote" | "rollback" | "hold";
  reason: string;
  evidence: Record<string, unknown>;
};

const Z95 = 1.96;

/** Lower bound of the Wilson score interval for `hits` of `n` (0 when n is 0). */
export function wilsonLower(hits: number, n: number, z = Z95): number {
  if (n <= 0) return 0;
  const p = Math.min(Math.max(hits / n, 0), 1);
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - spread) / (1 + z2 / n));
}

/** Two-proportion z statistic of a over b (pooled variance); 0 when it is undefined. */
export function twoProportionZ(hitsA: number, nA: number, hitsB: number, nB: number): number {
  if (nA <= 0 || nB <= 0) return 0;
  const pooled = (hitsA + hitsB) / (nA + nB);
  const variance = pooled * (1 - pooled) * (1 / nA + 1 / nB);
  if (variance <= 0) return 0;
  return (hitsA / nA - hitsB / nB) / Math.sqrt(variance);
}

export function rates(s: VersionStats) {
  const per = (x: number) => (s.served > 0 ? x / s.served : 0);
  const finished = s.served + s.failed;
  return {
    like_rate: per(s.likes),
    approval: s.likes + s.dislikes > 0 ? s.likes / (s.likes + s.dislikes) : 0,
    dislike_rate: per(s.dislikes),
    refine_rate: per(s.refines),
    report_rate: per(s.reports),
    failure_rate: finished > 0 ? s.failed / finished : 0,
  };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** What the controller does with the canary, given both versions' stats over the same window. */
export function decideRollout(
  canary: VersionStats,
  current: VersionStats,
  policy: RolloutPolicy = DEFAULT_ROLLOUT_POLICY,
): RolloutDecision {
  const finished = canary.served + canary.failed;
  const failureLow = wilsonLower(canary.failed, finished);
  const reportLow = wilsonLower(canary.reports, canary.served);
  const votes = (v: VersionStats) => v.likes + v.dislikes;
  const z = twoProportionZ(canary.likes, votes(canary), current.likes, votes(current));
  const evidence = {
    canary: { ...canary, ...mapRound(rates(canary)) },
    default: { ...current, ...mapRound(rates(current)) },
    failure_rate_lower_95: round(failureLow),
    report_rate_lower_95: round(reportLow),
    approval_z: round(z),
    policy,
  };
  if (failureLow > policy.maxFailureRate) {
    return {
      action: "rollback",
      reason: `failure rate above ${policy.maxFailureRate} (95% lower bound ${round(failureLow)})`,
      evidence,
    };
  }
  if (reportLow > policy.maxReportRate) {
    return {
      action: "rollback",
      reason: `report rate above ${policy.maxReportRate} (95% lower bound ${round(reportLow)})`,
      evidence,
    };
  }
  const sample = Math.min(votes(canary), votes(current));
  if (sample < policy.minSample) {
    return {
      action: "hold",
      reason: `waiting for ${policy.minSample} votes per version`,
      evidence,
    };
  }
  if (z >= policy.zPromote) {
    return { action: "promote", reason: `approval higher, z = ${round(z)}`, evidence };
  }
  if (z <= -policy.zPromote) {
    return { action: "rollback", reason: `approval lower, z = ${round(z)}`, evidence };
  }
  if (sample >= policy.maxSample) {
    return {
      action: "rollback",
      reason: `no measurable preference after ${policy.maxSample} votes per version (z = ${round(z)})`,
      evidence,
    };
  }
  return { action: "hold", reason: `no clear preference yet (z = ${round(z)})`, evidence };
}

function mapRound(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, x]) => [k, round(x)]));
}
