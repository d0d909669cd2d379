import { describe, expect, it } from "vitest";
import { BATCH_DEFAULTS, BatchPolicy } from "./batch-policy.ts";

describe("BatchPolicy", () => {
  it("applies the defaults of the provider the models run on", () => {
    const policy = new BatchPolicy();
    expect(policy.resolve("cpu")).toEqual(BATCH_DEFAULTS.cpu);
    expect(policy.source).toBe("cpu-default");
    expect(policy.resolve("cpu,cuda")).toEqual(BATCH_DEFAULTS.cuda);
    expect(policy.source).toBe("cuda-default");
    expect({ maxBatch: policy.maxBatch, maxBatchDelayMs: policy.maxBatchDelayMs }).toEqual(
      BATCH_DEFAULTS.cuda,
    );
    // Before any model loaded ("none"), and on anything not CUDA: the CPU defaults.
    expect(policy.resolve("none")).toEqual(BATCH_DEFAULTS.cpu);
  });

  it("keeps configured limits, filling only what was not set", () => {
    const delayOnly = new BatchPolicy({ maxBatchDelayMs: 25 });
    expect(delayOnly.resolve("cuda")).toEqual({ maxBatch: 8, maxBatchDelayMs: 25 });
    expect(delayOnly.source).toBe("cuda-default");
    const both = new BatchPolicy({ maxBatch: 2, maxBatchDelayMs: 0 });
    expect(both.resolve("cuda")).toEqual({ maxBatch: 2, maxBatchDelayMs: 0 });
    expect(both.source).toBe("configured");
  });
});
