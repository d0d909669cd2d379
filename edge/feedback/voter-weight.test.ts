import { describe, expect, it } from "vitest";
import { VOTER_RULE, voterWeight } from "./voter-weight.ts";

describe("voterWeight", () => {
  it("gives an honest account full weight and none to a missing history", () => {
    expect(voterWeight({ votes: 0, blind: 0, burst: 0, kinds: 0 })).toBe(1);
    expect(voterWeight({ votes: 40, blind: 0, burst: 0, kinds: 2 })).toBe(1);
    // Few votes, all the same: too few to call it anomalous.
    expect(voterWeight({ votes: 19, blind: 0, burst: 0, kinds: 1 })).toBe(1);
  });

  it("down-weights blind votes, bursts and always the same answer, each by its share", () => {
    expect(voterWeight({ votes: 10, blind: 5, burst: 0, kinds: 2 })).toBeCloseTo(0.55);
    expect(voterWeight({ votes: 10, blind: 0, burst: 10, kinds: 2 })).toBeCloseTo(0.1);
    expect(voterWeight({ votes: 20, blind: 0, burst: 0, kinds: 1 })).toBe(0.5);
    expect(voterWeight({ votes: 20, blind: 10, burst: 10, kinds: 1 })).toBeCloseTo(
      0.55 * 0.55 * 0.5,
    );
  });

  it("never goes below the floor or above 1", () => {
    expect(voterWeight({ votes: 100, blind: 100, burst: 100, kinds: 1 })).toBe(VOTER_RULE.floor);
    expect(voterWeight({ votes: 3, blind: 9, burst: -1, kinds: 3 })).toBeCloseTo(0.1);
  });
});
