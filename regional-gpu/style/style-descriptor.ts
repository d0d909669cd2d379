import { STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import { GRID, labGrid, type LabGrid } from "./lab-grid.ts";

export { STYLE_DESCRIPTOR, STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";

// The style embedding of an image, computed from its pixels alone (so every pipeline's outputs get
// one): what its colours are and how they are laid down, not what is where. Documented in
// regional-gpu/style/README.md. Deterministic: plain float64 arithmetic in a fixed order over a
// 64x64 grid of the image, so the same pixels give the same vector on any machine.

const L_BINS = 4;
const AB_BINS = 5;
/** a* and b* beyond this are clamped into the outer bins (sRGB reaches about ±100). */
const AB_RANGE = 80;
const GRADIENT_BINS = 8;
const ORIENTATION_BINS = 8;
const SCALES = 4;
const MOMENTS = 8;

// Change any of these and STYLE_DESCRIPTOR (contracts/style.ts) changes with them.
if (
  L_BINS * AB_BINS * AB_BINS + GRADIENT_BINS + ORIENTATION_BINS + SCALES + MOMENTS !==
  STYLE_EMBEDDING_DIMS
) {
  throw new Error("the style descriptor's blocks do not add up to STYLE_EMBEDDING_DIMS");
}

/** How much each block counts in the cosine between two vectors (the palette most). */
const WEIGHTS = { colour: 1, gradient: 0.45, orientation: 0.2, scales: 0.4, moments: 0.5 };

/** Adds `weight` to the two bins around `t` (a continuous bin coordinate), clamped at the ends. */
function softBins(t: number, bins: number): [number, number, number] {
  const clamped = Math.min(Math.max(t, 0), bins - 1);
  const low = Math.min(Math.floor(clamped), bins - 2);
  return [low, low + 1, clamped - low];
}

/** Joint CIELAB histogram (L 4 x a 5 x b 5), trilinear soft binning: the palette. */
function colourHistogram(grid: LabGrid): Float64Array {
  const hist = new Float64Array(L_BINS * AB_BINS * AB_BINS);
  const abWidth = (2 * AB_RANGE) / AB_BINS;
  for (let i = 0; i < GRID * GRID; i++) {
    const [l0, l1, lf] = softBins(grid.L[i]! / (100 / L_BINS) - 0.5, L_BINS);
    const [a0, a1, af] = softBins((grid.a[i]! + AB_RANGE) / abWidth - 0.5, AB_BINS);
    const [b0, b1, bf] = softBins((grid.b[i]! + AB_RANGE) / abWidth - 0.5, AB_BINS);
    for (const [l, wl] of [
      [l0, 1 - lf],
      [l1, lf],
    ] as const) {
      for (const [a, wa] of [
        [a0, 1 - af],
        [a1, af],
      ] as const) {
        const row = (l * AB_BINS + a) * AB_BINS;
        hist[row + b0]! += wl * wa * (1 - bf);
        hist[row + b1]! += wl * wa * bf;
      }
    }
  }
  return hist;
}

/**
 * Gradients of the grid: a histogram of colour-difference magnitudes (log scale: flat fields,
 * soft ramps, hard edges) and one of edge orientations weighted by strength.
 */
function gradientHistograms(grid: LabGrid): { magnitude: Float64Array; orientation: Float64Array } {
  const magnitude = new Float64Array(GRADIENT_BINS);
  const orientation = new Float64Array(ORIENTATION_BINS);
  const maxLog = Math.log1p(100);
  const at = (x: number, y: number) => y * GRID + x;
  for (let y = 1; y < GRID - 1; y++) {
    for (let x = 1; x < GRID - 1; x++) {
      const [r, l, d, u] = [at(x + 1, y), at(x - 1, y), at(x, y + 1), at(x, y - 1)];
      const gx = [grid.L[r]! - grid.L[l]!, grid.a[r]! - grid.a[l]!, grid.b[r]! - grid.b[l]!];
      const gy = [grid.L[d]! - grid.L[u]!, grid.a[d]! - grid.a[u]!, grid.b[d]! - grid.b[u]!];
      const m =
        Math.sqrt(gx.reduce((s, v) => s + v * v, 0) + gy.reduce((s, v) => s + v * v, 0)) / 2;
      const [m0, m1, mf] = softBins((Math.log1p(m) / maxLog) * GRADIENT_BINS - 0.5, GRADIENT_BINS);
      magnitude[m0]! += 1 - mf;
      magnitude[m1]! += mf;
      // Orientation of the colour edge: the channel with the larger change decides (mod pi).
      const sx = gx[0]! * Math.abs(gx[0]!) + gx[1]! * Math.abs(gx[1]!) + gx[2]! * Math.abs(gx[2]!);
      const sy = gy[0]! * Math.abs(gy[0]!) + gy[1]! * Math.abs(gy[1]!) + gy[2]! * Math.abs(gy[2]!);
      if (m < 1e-6) continue;
      let theta = Math.atan2(sy, sx);
      if (theta < 0) theta += Math.PI;
      const t = (theta / Math.PI) * ORIENTATION_BINS;
      const o0 = Math.floor(t) % ORIENTATION_BINS;
      const of = t - Math.floor(t);
      orientation[o0]! += m * (1 - of);
      orientation[(o0 + 1) % ORIENTATION_BINS]! += m * of;
    }
  }
  return { magnitude, orientation };
}

/**
 * Mean colour difference between neighbouring cells at 64, 32, 16 and 8 cells across: where the
 * image's detail sits in frequency (fine bands, broad fields).
 */
function scaleEnergy(grid: LabGrid): Float64Array {
  const energy = new Float64Array(SCALES);
  let channels = [grid.L, grid.a, grid.b];
  let size = GRID;
  for (let s = 0; s < SCALES; s++) {
    let sum = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        for (const c of channels) {
          if (x + 1 < size) sum += Math.abs(c[i + 1]! - c[i]!);
          if (y + 1 < size) sum += Math.abs(c[i + size]! - c[i]!);
        }
      }
    }
    energy[s] = sum / (2 * size * (size - 1));
    const half = size / 2;
    channels = channels.map((c) => {
      const out = new Float64Array(half * half);
      for (let y = 0; y < half; y++) {
        for (let x = 0; x < half; x++) {
          const i = 2 * y * size + 2 * x;
          out[y * half + x] = (c[i]! + c[i + 1]! + c[i + size]! + c[i + size + 1]!) / 4;
        }
      }
      return out;
    });
    size = half;
  }
  return energy;
}

/** Means and spreads of L, a, b and chroma, in units of their ranges. */
function moments(grid: LabGrid): Float64Array {
  const n = GRID * GRID;
  const values = [grid.L, grid.a, grid.b, grid.L.map((_, i) => Math.hypot(grid.a[i]!, grid.b[i]!))];
  const scales = [100, 100, 100, 100];
  const out = new Float64Array(MOMENTS);
  values.forEach((v, c) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += v[i]!;
    const mean = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (v[i]! - mean) ** 2;
    out[c] = mean / scales[c]!;
    out[4 + c] = (2 * Math.sqrt(squares / n)) / scales[c]!;
  });
  return out;
}

/** `hist` as a unit vector of square roots of its shares (cosine = Bhattacharyya coefficient). */
function hellinger(hist: Float64Array): Float64Array {
  const total = hist.reduce((a, b) => a + b, 0);
  return total > 0 ? hist.map((x) => Math.sqrt(x / total)) : hist;
}

function unit(v: Float64Array): Float64Array {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : v;
}

/**
 * The style embedding of `image`: STYLE_EMBEDDING_DIMS float32 values, unit length (cosine
 * similarity is their dot product). See regional-gpu/style/README.md for the blocks.
 */
export function styleEmbedding(image: RawImage): Float32Array {
  const grid = labGrid(image);
  const { magnitude, orientation } = gradientHistograms(grid);
  const blocks: Array<[Float64Array, number]> = [
    [hellinger(colourHistogram(grid)), WEIGHTS.colour],
    [hellinger(magnitude), WEIGHTS.gradient],
    [hellinger(orientation), WEIGHTS.orientation],
    [hellinger(scaleEnergy(grid)), WEIGHTS.scales],
    [moments(grid), WEIGHTS.moments],
  ];
  const out = new Float64Array(STYLE_EMBEDDING_DIMS);
  let offset = 0;
  for (const [block, weight] of blocks) {
    block.forEach((x, i) => (out[offset + i] = x * weight));
    offset += block.length;
  }
  return Float32Array.from(unit(out));
}
