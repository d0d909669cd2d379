import { describe, expect, it } from "vitest";
import { planRollout, RolloutError, type VersionState } from "./transitions.ts";

const v = (version: string, status: VersionState["status"], trafficShare = 0): VersionState => ({
  id: `mv_${version}`,
  version,
  status,
  trafficShare,
});

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof RolloutError) return error.code;
    throw error;
  }
  return "no error";
};

describe("rollout transitions", () => {
  const fleet = [v("1", "default"), v("2", "candidate"), v("3", "retired")];

  it("starts a canary from a candidate and ramps it", () => {
    expect(planRollout(fleet, { action: "canary", version: "2", share: 0.1 })).toEqual([
      { id: "mv_2", version: "2", action: "canary", from: "candidate", to: "canary", share: 0.1 },
    ]);
    const out = [v("1", "default"), v("2", "canary", 0.1)];
    expect(planRollout(out, { action: "ramp", version: "2", share: 0.5 })).toEqual([
      { id: "mv_2", version: "2", action: "ramp", from: "canary", to: "canary", share: 0.5 },
    ]);
  });

  it("allows one canary at a time and only shares in (0, 1]", () => {
    const out = [v("1", "default"), v("2", "canary", 0.1), v("4", "candidate")];
    expect(code(() => planRollout(out, { action: "canary", version: "4", share: 0.1 }))).toBe(
      "canary_in_progress",
    );
    for (const share of [0, -0.1, 1.5, Number.NaN]) {
      expect(code(() => planRollout(fleet, { action: "canary", version: "2", share }))).toBe(
        "invalid_share",
      );
    }
  });

  it("promotes a canary and keeps the old default servable when pinned", () => {
    const out = [v("1", "default"), v("2", "canary", 0.2)];
    expect(planRollout(out, { action: "promote", version: "2" })).toEqual([
      { id: "mv_1", version: "1", action: "promote", from: "default", to: "candidate", share: 0 },
      { id: "mv_2", version: "2", action: "promote", from: "canary", to: "default", share: 0 },
    ]);
  });

  it("rolls back only canaries and retires the default only without a canary", () => {
    const out = [v("1", "default"), v("2", "canary", 0.2)];
    expect(planRollout(out, { action: "rollback", version: "2" })[0]).toMatchObject({
      to: "retired",
      share: 0,
    });
    expect(code(() => planRollout(out, { action: "rollback", version: "1" }))).toBe(
      "invalid_transition",
    );
    expect(code(() => planRollout(out, { action: "retire", version: "1" }))).toBe(
      "canary_in_progress",
    );
    expect(planRollout(fleet, { action: "retire", version: "1" })[0]).toMatchObject({
      from: "default",
      to: "retired",
    });
  });

  it("restores a retired version as a candidate and refuses unknown versions", () => {
    expect(planRollout(fleet, { action: "restore", version: "3" })[0]).toMatchObject({
      from: "retired",
      to: "candidate",
    });
    expect(code(() => planRollout(fleet, { action: "promote", version: "9" }))).toBe(
      "version_not_found",
    );
    expect(code(() => planRollout(fleet, { action: "canary", version: "3", share: 0.1 }))).toBe(
      "invalid_transition",
    );
  });

  it("lets a trained version take traffic only when it beat its parent offline", () => {
    const lineage = (beats: boolean) => ({
      lineage: { parent_version: "1", offline_eval: { beats_parent: beats } },
    });
    const worse = [v("1", "default"), { ...v("2", "candidate"), manifest: lineage(false) }];
    const better = [v("1", "default"), { ...v("2", "candidate"), manifest: lineage(true) }];
    expect(code(() => planRollout(worse, { action: "canary", version: "2", share: 0.1 }))).toBe(
      "offline_evaluation_failed",
    );
    expect(code(() => planRollout(worse, { action: "promote", version: "2" }))).toBe(
      "offline_evaluation_failed",
    );
    expect(
      planRollout(worse, { action: "canary", version: "2", share: 0.1, force: true }),
    ).toHaveLength(1);
    expect(planRollout(better, { action: "canary", version: "2", share: 0.1 })).toHaveLength(1);
  });
});
