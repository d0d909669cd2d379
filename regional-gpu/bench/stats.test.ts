import { describe, expect, it } from "vitest";
import { percentile, round, summarise } from "./stats.ts";

describe("bench stats", () => {
  it("takes nearest-rank percentiles of observed values", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(summarise([3, 1, 2, 10])).toEqual({ count: 4, p50: 2, p99: 10, mean: 4, max: 10 });
  });

  it("rounds for reports", () => {
    expect(round(3.14159)).toBe(3.14);
    expect(round(1234.6)).toBe(1235);
  });
});
