import { describe, expect, it } from "vitest";
import {
  decideRollout,
  DEFAULT_ROLLOUT_POLICY,
  twoProportionZ,
  wilsonLower,
  type VersionStats,
} from "./policy.ts";

/** `served` outputs with `likes` likes and dislikes for the rest of `votes` (default: served). */
const stats = (
  served: number,
  likes: number,
  extra: Partial<VersionStats> & { votes?: number } = {},
): VersionStats => ({
  served,
  failed: 0,
  likes,
  dislikes: (extra.votes ?? served) - likes,
  reports: 0,
  refines: 0,
  ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "votes")),
});

describe("rollout policy", () => {
  it("computes the Wilson lower bound and the z statistic", () => {
    expect(wilsonLower(0, 0)).toBe(0);
    expect(wilsonLower(0, 100)).toBe(0);
    // 10 of 100: the 95% Wilson interval is [0.0552, 0.1744].
    expect(wilsonLower(10, 100)).toBeCloseTo(0.0552, 3);
    // 30% vs 20% of 500 each: z = 0.1 / sqrt(0.25 * 0.75 * 2 / 500) = 3.651.
    expect(twoProportionZ(150, 500, 100, 500)).toBeCloseTo(3.651, 2);
    expect(twoProportionZ(0, 10, 0, 10)).toBe(0);
  });

  it("holds until both versions reach the minimum sample", () => {
    const d = decideRollout(stats(300, 150, { votes: 199 }), stats(5_000, 500));
    expect(d.action).toBe("hold");
    expect(d.reason).toMatch(/waiting/);
  });

  it("promotes a canary with clearly higher approval and rolls back a clearly lower one", () => {
    expect(decideRollout(stats(400, 140), stats(4_000, 1_000)).action).toBe("promote");
    expect(decideRollout(stats(400, 60), stats(4_000, 1_000)).action).toBe("rollback");
    // 27% vs 25% on 400: z ~ 0.87, not enough.
    expect(decideRollout(stats(400, 108), stats(4_000, 1_000)).action).toBe("hold");
  });

  it("rolls back a canary that shows no preference after the maximum sample", () => {
    const { maxSample } = DEFAULT_ROLLOUT_POLICY;
    const d = decideRollout(stats(maxSample, maxSample / 4), stats(maxSample * 2, maxSample / 2));
    expect(d.action).toBe("rollback");
    expect(d.reason).toMatch(/no measurable preference/);
  });

  it("rolls back on reports or failures before any preference sample", () => {
    const reported = decideRollout(stats(60, 50, { reports: 8 }), stats(10, 1));
    // (the reports come before any preference sample: 60 votes < minSample)
    expect(reported).toMatchObject({ action: "rollback" });
    expect(reported.reason).toMatch(/report rate/);
    const failing = decideRollout(stats(40, 30, { failed: 10 }), stats(10, 1));
    expect(failing.reason).toMatch(/failure rate/);
    // One report in 60 is within noise of a 2% limit.
    expect(decideRollout(stats(60, 20, { reports: 1 }), stats(10, 1)).action).toBe("hold");
  });

  it("records the evidence it decided on", () => {
    const d = decideRollout(stats(400, 140), stats(4_000, 1_000));
    expect(d.evidence).toMatchObject({
      canary: { served: 400, like_rate: 0.35, approval: 0.35 },
      default: { like_rate: 0.25 },
      policy: DEFAULT_ROLLOUT_POLICY,
    });
    expect(d.evidence.approval_z).toBeGreaterThan(2.326);
  });
});
