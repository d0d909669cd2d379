// The CPPN's `coords` input: (x, y, r) per pixel centre, row-major. The shorter side spans [-1, 1] and
// the longer one extends by the aspect ratio, so a wide image shows more of the same field rather than
// a stretched one.

export function pixelCoords(width: number, height: number): Float32Array {
  const short = Math.min(width, height);
  const coords = new Float32Array(width * height * 3);
  let i = 0;
  for (let row = 0; row < height; row++) {
    const y = (2 * row + 1 - height) / short;
    for (let col = 0; col < width; col++) {
      const x = (2 * col + 1 - width) / short;
      coords[i++] = x;
      coords[i++] = y;
      coords[i++] = Math.sqrt(x * x + y * y);
    }
  }
  return coords;
}

/**
 * Keeps the coords of the few most recently used shapes (a 2048x2048 grid is 48 MiB), in shared
 * memory: a session on the inference executor thread receives them by reference instead of a copy of
 * the whole grid on every run (786 kB at 256x256). They are never written after they are built.
 */
export class PixelCoordsCache {
  private readonly entries = new Map<string, Float32Array>();
  private readonly maxEntries: number;

  constructor(maxEntries = 4) {
    this.maxEntries = maxEntries;
  }

  get(width: number, height: number): Float32Array {
    const key = `${width}x${height}`;
    let coords = this.entries.get(key);
    if (coords) this.entries.delete(key);
    else coords = inSharedMemory(pixelCoords(width, height));
    this.entries.set(key, coords);
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    return coords;
  }
}

function inSharedMemory(values: Float32Array): Float32Array {
  const shared = new Float32Array(new SharedArrayBuffer(values.byteLength));
  shared.set(values);
  return shared;
}
