import { describe, expect, it } from "vitest";
import { ThroughputMeter } from "./throughput.ts";

describe("ThroughputMeter", () => {
  it("reports jobs per second and failure rate over the window, and smooths service time", () => {
    let now = 0;
    const meter = new ThroughputMeter({ windowMs: 10_000, alpha: 0.5, now: () => now });
    expect(meter.msPerJob()).toBeNull();
    expect(meter.failureRate()).toBe(0);
    now = 5_000;
    meter.record(4, 1, 400);
    meter.record(2, 0, 400);
    expect(meter.perSecond()).toBeCloseTo(6 / 5);
    expect(meter.failureRate()).toBeCloseTo(1 / 6);
    expect(meter.msPerJob()).toBeCloseTo(0.5 * 200 + 0.5 * 100);
    now = 20_000;
    expect(meter.perSecond()).toBe(0);
    expect(meter.failureRate()).toBe(0);
    expect(meter.msPerJob()).toBeCloseTo(150);
  });
});
