import { describe, expect, it } from "vitest";
import { ThroughputMeter } from "./throughput.ts";

describe("ThroughputMeter", () => {
  it("reports failure rate over the window, and smooths service time per job", () => {
    let now = 0;
    const meter = new ThroughputMeter({ windowMs: 10_000, alpha: 0.5, now: () => now });
    expect(meter.msPerJob()).toBeNull();
    expect(meter.failureRate()).toBe(0);
    now = 5_000;
    meter.record(4, 1, 400, ["inference_failed"]);
    meter.record(2, 0, 400);
    expect(meter.failureRate()).toBeCloseTo(1 / 6);
    expect(meter.recentJobs()).toBe(6);
    expect(meter.recentFailures()).toEqual({ inference_failed: 1 });
    expect(meter.msPerJob()).toBeCloseTo(0.5 * 200 + 0.5 * 100);
    now = 20_000;
    expect(meter.failureRate()).toBe(0);
    expect(meter.recentJobs()).toBe(0);
    expect(meter.recentFailures()).toEqual({});
    expect(meter.msPerJob()).toBeCloseTo(150);
  });

  it("tracks a steady rate from the first seconds on, follows a change, and decays when idle", () => {
    let now = 0;
    const meter = new ThroughputMeter({ rateTauMs: 10_000, now: () => now });
    expect(meter.perSecond()).toBe(0);
    // 20 jobs/s as batches of 2 every 100 ms: right within 10% after 3 s, though tau is 10 s.
    for (; now < 3_000;) {
      now += 100;
      meter.record(2, 0, 90);
    }
    expect(meter.perSecond()).toBeGreaterThan(18);
    expect(meter.perSecond()).toBeLessThan(22);
    // Down to 5 jobs/s: after 3 tau the estimate sits near the new pace.
    for (; now < 33_000;) {
      now += 200;
      meter.record(1, 0, 190);
    }
    expect(meter.perSecond()).toBeGreaterThan(4.5);
    expect(meter.perSecond()).toBeLessThan(6.5);
    // Nothing finishes for 5 tau: the rate falls below 1% of what it was.
    now += 50_000;
    expect(meter.perSecond()).toBeLessThan(0.05);
  });
});
