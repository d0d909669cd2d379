import { describe, expect, it } from "vitest";
import { SeededRandom, seedNoise } from "./seeded-random.ts";

describe("SeededRandom", () => {
  it("draws a fixed sequence per seed (models and cached outputs depend on it)", () => {
    const random = new SeededRandom(42);
    const first = Array.from({ length: 4 }, () => random.nextUint32());
    // Pinned: a change here changes every model build and every seed's image.
    expect(first).toEqual(PINNED_SEED_42);
    expect(new SeededRandom(42).nextUint32()).toBe(first[0]);
    expect(new SeededRandom(43).nextUint32()).not.toBe(first[0]);
  });

  it("stays in range with sensible moments", () => {
    const random = new SeededRandom(7);
    const n = 20_000;
    const floats = Array.from({ length: n }, () => random.nextFloat());
    const normals = Array.from({ length: n }, () => random.nextNormal());
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    const mean = normals.reduce((a, b) => a + b, 0) / n;
    const variance = normals.reduce((a, b) => a + b * b, 0) / n - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it("accepts exactly the uint32 seeds", () => {
    expect(() => new SeededRandom(0)).not.toThrow();
    expect(() => new SeededRandom(0xffffffff)).not.toThrow();
    for (const bad of [-1, 0x1_0000_0000, 1.5, Number.NaN]) {
      expect(() => new SeededRandom(bad)).toThrow(RangeError);
    }
  });
});

describe("seedNoise", () => {
  it("is deterministic, bounded and differs between seeds", () => {
    const a = seedNoise(1, 16);
    expect(a).toEqual(seedNoise(1, 16));
    expect(a).not.toEqual(seedNoise(2, 16));
    expect(a).toHaveLength(16);
    for (const x of a) expect(Math.abs(x)).toBeLessThanOrEqual(Math.sqrt(3));
  });
});

const PINNED_SEED_42 = [2837322924, 544945897, 479756282, 3500138142];
