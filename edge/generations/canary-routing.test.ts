import { describe, expect, it } from "vitest";
import { canaryBucket, chooseServingVersion } from "./canary-routing.ts";

const accounts = Array.from(
  { length: 20_000 },
  (_, i) => `acct_${i.toString(36).padStart(6, "0")}`,
);
const share = (p: number, model = "cppn-glove") =>
  accounts.filter(
    (a) =>
      chooseServingVersion({ default: "v1", canary: { version: "v2", share: p } }, a, model) ===
      "v2",
  );

describe("canary routing", () => {
  it("sends about the canary's share of accounts to it", () => {
    for (const p of [0, 0.05, 0.2, 0.5, 1]) {
      expect(share(p).length / accounts.length).toBeCloseTo(p, 1.5);
    }
    expect(share(0)).toHaveLength(0);
    expect(share(1)).toHaveLength(accounts.length);
  });

  it("is sticky per account: the same answer every time, and a larger share only adds accounts", () => {
    const small = new Set(share(0.1));
    const large = new Set(share(0.3));
    for (const a of small) expect(large.has(a)).toBe(true);
    expect(share(0.1)).toEqual([...small]);
  });

  it("draws each model's canary population independently", () => {
    const a = new Set(share(0.5, "model-a"));
    const overlap = share(0.5, "model-b").filter((x) => a.has(x)).length / accounts.length;
    expect(overlap).toBeGreaterThan(0.2);
    expect(overlap).toBeLessThan(0.3);
  });

  it("falls back to the default without a canary and to the canary without a default", () => {
    expect(chooseServingVersion({ default: "v1", canary: null }, "acct_1", "m")).toBe("v1");
    expect(
      chooseServingVersion(
        { default: null, canary: { version: "v2", share: 0.01 } },
        "acct_1",
        "m",
      ),
    ).toBe("v2");
    expect(chooseServingVersion({ default: null, canary: null }, "acct_1", "m")).toBeNull();
  });

  it("buckets lie in [0, 1)", () => {
    for (const a of accounts.slice(0, 500)) {
      const b = canaryBucket(a, "cppn-glove");
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(1);
    }
  });
});
