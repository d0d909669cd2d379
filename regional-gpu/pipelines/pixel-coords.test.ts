import { describe, expect, it } from "vitest";
import { pixelCoords, PixelCoordsCache } from "./pixel-coords.ts";

const at = (coords: Float32Array, width: number, col: number, row: number) =>
  Array.from(coords.subarray((row * width + col) * 3, (row * width + col) * 3 + 3));

describe("pixelCoords", () => {
  it("puts pixel centres of a square image in [-1, 1], row-major, with the radius", () => {
    const c = pixelCoords(4, 4);
    expect(c).toHaveLength(4 * 4 * 3);
    const [x0, y0, r0] = at(c, 4, 0, 0);
    expect([x0, y0]).toEqual([-0.75, -0.75]);
    expect(r0).toBeCloseTo(Math.hypot(0.75, 0.75), 6);
    expect(at(c, 4, 3, 0).slice(0, 2)).toEqual([0.75, -0.75]);
    expect(at(c, 4, 0, 3).slice(0, 2)).toEqual([-0.75, 0.75]);
  });

  it("extends the longer side by the aspect ratio", () => {
    const c = pixelCoords(8, 4);
    expect(at(c, 8, 0, 0).slice(0, 2)).toEqual([-1.75, -0.75]);
    expect(at(c, 8, 7, 3).slice(0, 2)).toEqual([1.75, 0.75]);
  });
});

describe("PixelCoordsCache", () => {
  it("reuses coords per shape and evicts the least recently used", () => {
    const cache = new PixelCoordsCache(2);
    const a = cache.get(64, 64);
    expect(cache.get(64, 64)).toBe(a);
    const b = cache.get(128, 64);
    cache.get(64, 64);
    cache.get(64, 128);
    expect(cache.get(64, 64)).toBe(a);
    expect(cache.get(128, 64)).not.toBe(b);
  });

  it("keeps them in shared memory, equal to the plain grid", () => {
    const shared = new PixelCoordsCache().get(8, 4);
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(shared)).toEqual(Array.from(pixelCoords(8, 4)));
  });
});
