import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs } from "./retry-policy.ts";

describe("retryDelayMs", () => {
  const policy = DEFAULT_RETRY_POLICY;

  it("grows exponentially up to the cap, then stops after the last attempt", () => {
    const mid = (n: number) => retryDelayMs(n, policy, 0.5);
    expect(mid(1)).toBe(5_000);
    expect(mid(2)).toBe(30_000);
    expect(mid(3)).toBe(180_000);
    expect(mid(6)).toBe(policy.maxDelayMs);
    expect(mid(7)).toBe(policy.maxDelayMs);
    expect(mid(8)).toBeNull();
  });

  it("spreads each delay by the jitter", () => {
    expect(retryDelayMs(1, policy, 0)).toBe(4_000);
    expect(retryDelayMs(1, policy, 0.999999)).toBe(6_000);
  });

  it("waits at least what Retry-After asks, within the cap", () => {
    expect(retryDelayMs(1, policy, 0.5, 60_000)).toBe(60_000);
    expect(retryDelayMs(1, policy, 0.5, 10 * 24 * 3_600_000)).toBe(policy.maxDelayMs);
  });
});

describe("parseRetryAfter", () => {
  it("reads delta seconds and HTTP dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
