import { describe, expect, it } from "vitest";
import { referenceModel } from "../testing/reference-model.ts";
import { measureColdLoads } from "./measure-cold-loads.ts";

describe("measureColdLoads", () => {
  it("times the reference model from the store, from disk and hot", async () => {
    const model = await referenceModel();
    const times = await measureColdLoads({
      modelsDir: model.modelsDir,
      model: model.ref,
      trials: 1,
    });
    expect(times).toMatchObject({ model: model.ref, execution_provider: "cpu", trials: 1 });
    expect(times.store).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/models\/$/);
    for (const tier of ["store", "disk", "hot"] as const) {
      expect(times[`${tier}_ms`]).toHaveLength(1);
      expect(times.median_ms[tier]).toBeGreaterThan(0);
    }
    expect(times.median_cpu_ms.store).toBeGreaterThan(0);
    expect(times.median_cpu_ms.disk).toBeGreaterThan(0);
    // A hot hit does no I/O and no session work: far below a load from disk.
    expect(times.median_ms.hot).toBeLessThan(times.median_ms.disk / 10);
    expect(times.footprint_bytes).toBeGreaterThanOrEqual(model.manifest.bytes);
  });
});
