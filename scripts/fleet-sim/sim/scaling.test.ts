import { describe, expect, it } from "vitest";
import { GroupScaler, type GroupState } from "./scaling.ts";

const group = (over: Partial<GroupState> = {}): GroupState => ({
  minSize: 1,
  maxSize: 20,
  desired: 2,
  serving: 2,
  warming: 0,
  ...over,
});

describe("GroupScaler (EC2 Auto Scaling's target tracking and step scaling)", () => {
  it("scales out after 3 datapoints above the target, in proportion to the metric", () => {
    const scaler = new GroupScaler({ metric: "backlog", target: 2 }, []);
    expect(scaler.decide({ metric: 5, oldestAgeS: null }, group())).toBe(2);
    expect(scaler.decide({ metric: 5, oldestAgeS: null }, group())).toBe(2);
    expect(scaler.decide({ metric: 5, oldestAgeS: null }, group())).toBe(5);
  });

  it("needs an unbroken run: a missing datapoint starts it again", () => {
    const scaler = new GroupScaler({ metric: "backlog", target: 2 }, []);
    scaler.decide({ metric: 5, oldestAgeS: null }, group());
    scaler.decide({ metric: 5, oldestAgeS: null }, group());
    expect(scaler.decide({ metric: null, oldestAgeS: null }, group())).toBe(2);
    expect(scaler.decide({ metric: 5, oldestAgeS: null }, group())).toBe(2);
  });

  it("scales in after 15 datapoints below 90% of the target, never below min", () => {
    const scaler = new GroupScaler({ metric: "backlog", target: 2 }, []);
    const state = group({ desired: 8, serving: 8 });
    for (let i = 0; i < 14; i++)
      expect(scaler.decide({ metric: 0.5, oldestAgeS: null }, state)).toBe(8);
    expect(scaler.decide({ metric: 0.5, oldestAgeS: null }, state)).toBe(2);
    // Within 10% of the target: no change either way.
    const steady = new GroupScaler({ metric: "backlog", target: 2 }, []);
    for (let i = 0; i < 30; i++)
      expect(steady.decide({ metric: 1.9, oldestAgeS: null }, state)).toBe(8);
    const floor = new GroupScaler({ metric: "backlog", target: 2 }, []);
    for (let i = 0; i < 15; i++) floor.decide({ metric: 0, oldestAgeS: null }, state);
    expect(floor.decide({ metric: 0, oldestAgeS: null }, { ...state, desired: 1 })).toBe(1);
  });

  it("steps on the oldest job's age at once, less what is already on its way, up to max", () => {
    const steps = [
      { ageSeconds: 30, add: 1 },
      { ageSeconds: 120, add: 3 },
    ];
    const scaler = new GroupScaler(null, steps);
    expect(scaler.decide({ metric: null, oldestAgeS: 20 }, group())).toBe(2);
    expect(scaler.decide({ metric: null, oldestAgeS: 45 }, group())).toBe(3);
    expect(scaler.decide({ metric: null, oldestAgeS: 200 }, group())).toBe(5);
    expect(scaler.decide({ metric: null, oldestAgeS: 200 }, group({ warming: 2 }))).toBe(3);
    expect(scaler.decide({ metric: null, oldestAgeS: 200 }, group({ desired: 19 }))).toBe(20);
  });
});
