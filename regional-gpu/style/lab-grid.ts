import type { RawImage } from "../pipelines/pipeline.ts";

// An image reduced to a GRID x GRID grid of CIELAB colours (D65): each cell the mean, in linear
// light, of the pixels it covers. Any size maps to the same grid, so a larger render of the same
// picture gives (nearly) the same grid.

export const GRID = 64;

export interface LabGrid {
  L: Float64Array;
  a: Float64Array;
  b: Float64Array;
}

/** sRGB byte -> linear light (IEC 61966-2-1). */
const LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

// D65 white point and the sRGB -> XYZ matrix.
const WHITE = [0.95047, 1, 1.08883] as const;
const M = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
] as const;

const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116);

/** The pixels [from, to) of each cell along a side of `size` pixels (at least one per cell). */
function cellRanges(size: number): Array<[number, number]> {
  return Array.from({ length: GRID }, (_, c) => {
    const from = Math.min(Math.floor((c * size) / GRID), size - 1);
    return [from, Math.max(Math.floor(((c + 1) * size) / GRID), from + 1)];
  });
}

export function labGrid(image: RawImage): LabGrid {
  const { width, height, data } = image;
  const xs = cellRanges(width);
  const ys = cellRanges(height);
  const grid: LabGrid = {
    L: new Float64Array(GRID * GRID),
    a: new Float64Array(GRID * GRID),
    b: new Float64Array(GRID * GRID),
  };
  const sum = new Float64Array(3);
  for (let gy = 0; gy < GRID; gy++) {
    for (let gx = 0; gx < GRID; gx++) {
      sum.fill(0);
      let count = 0;
      const [x0, x1] = xs[gx]!;
      const [y0, y1] = ys[gy]!;
      for (let y = y0; y < y1; y++) {
        let p = (y * width + x0) * 3;
        for (let x = x0; x < x1; x++) {
          sum[0]! += LINEAR[data[p]!]!;
          sum[1]! += LINEAR[data[p + 1]!]!;
          sum[2]! += LINEAR[data[p + 2]!]!;
          p += 3;
          count += 1;
        }
      }
      const [r, g, b] = [sum[0]! / count, sum[1]! / count, sum[2]! / count];
      const fx = f((M[0][0] * r + M[0][1] * g + M[0][2] * b) / WHITE[0]);
      const fy = f((M[1][0] * r + M[1][1] * g + M[1][2] * b) / WHITE[1]);
      const fz = f((M[2][0] * r + M[2][1] * g + M[2][2] * b) / WHITE[2]);
      const i = gy * GRID + gx;
      grid.L[i] = 116 * fy - 16;
      grid.a[i] = 500 * (fx - fy);
      grid.b[i] = 200 * (fy - fz);
    }
  }
  return grid;
}
