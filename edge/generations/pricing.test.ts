import { describe, expect, it } from "vitest";
import {
  DEFAULT_GPU_MS_PER_MEGAPIXEL,
  DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD,
  estimateGpuMs,
  gpuCostMicrousd,
  microusdToUsd,
} from "./pricing.ts";

describe("pricing", () => {
  it("estimates GPU time from the measured ms per megapixel", () => {
    expect(estimateGpuMs(40, 1000, 1000)).toBe(40);
    expect(estimateGpuMs(40, 512, 512)).toBeCloseTo(10.48576);
    expect(estimateGpuMs(null, 1000, 1000)).toBe(DEFAULT_GPU_MS_PER_MEGAPIXEL);
  });

  it("prices GPU time at the region's hourly rate, rounded up to whole micro-USD", () => {
    // $3.60 per hour is 1 µUSD per GPU ms.
    expect(gpuCostMicrousd(3_600_000, 3_600_000)).toBe(3_600_000);
    expect(gpuCostMicrousd(10.2, 3_600_000)).toBe(11);
    expect(gpuCostMicrousd(0.001, 3_600_000)).toBe(1);
    expect(gpuCostMicrousd(0, 3_600_000)).toBe(0);
    expect(gpuCostMicrousd(3_600_000, null)).toBe(DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD);
    expect(microusdToUsd(400)).toBe(0.0004);
  });
});
