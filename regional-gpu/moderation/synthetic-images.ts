import type { RawImage } from "../pipelines/pipeline.ts";

// Deterministic synthetic RGB images for the moderation tests (no photographs are committed).

export function solid(side: number, rgb: readonly [number, number, number]): RawImage {
  const data = new Uint8Array(side * side * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width: side, height: side, channels: 3, data };
}

/** A diagonal colour ramp; `shift` moves the palette. */
export function ramp(width: number, height: number, shift = 0): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width + shift;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = ((x + y) * 127) / (width + height) + 2 * shift;
    }
  }
  return { width, height, channels: 3, data };
}

/** Seeded uniform noise (xorshift32). */
export function noise(side: number, seed: number): RawImage {
  const data = new Uint8Array(side * side * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = s & 0xff;
  }
  return { width: side, height: side, channels: 3, data };
}
