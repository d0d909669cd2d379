import { describe, expect, it } from "vitest";
import { meanStyleVector } from "./resolve-style.ts";

// A taste profile's vector from the outputs an account liked: pure, no I/O.

const spec = { space: "cppn-glove/latent32-ramp6x3", dims: 3 };
const record = (styleVector: number[] | null, styleSpace: string | null = spec.space) => ({
  styleSpace,
  styleVector,
});

describe("meanStyleVector", () => {
  it("averages the vectors of the model's space, weighted", () => {
    const records = [record([1, 0, 0.5]), record([0, 1, 0.5])];
    expect(meanStyleVector(records, spec)).toEqual([0.5, 0.5, 0.5]);
    expect(meanStyleVector(records, spec, [3, 1])).toEqual([0.75, 0.25, 0.5]);
    // One output's vector is itself: a profile of one like is that output's style.
    expect(meanStyleVector([record([0.25, -1, 2])], spec)).toEqual([0.25, -1, 2]);
  });

  it("leaves out outputs of another space, length or without a vector, and unusable weights", () => {
    const records = [
      record([1, 1, 1]),
      record([9, 9, 9], "another/space"),
      record([9, 9]),
      record(null),
      record(null, null),
      record([5, 5, 5]),
      record([7, 7, 7]),
    ];
    expect(meanStyleVector(records, spec, [1, 1, 1, 1, 1, 0, Number.NaN])).toEqual([1, 1, 1]);
  });

  it("is null when no output has a usable vector", () => {
    expect(meanStyleVector([], spec)).toBeNull();
    expect(meanStyleVector([record(null), record([1, 2, 3], "other")], spec)).toBeNull();
  });
});
