// Deterministic pseudo-random numbers from a uint32 seed: xoshiro128** seeded through splitmix32.
// Integer-only arithmetic (Math.imul, shifts), so every platform and Node version draws the same
// sequence; both the model build (weights) and the pipeline (per-request noise) rely on that.

function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return { state: next, value: (z ^ (z >>> 16)) >>> 0 };
}

const SQRT3 = Math.sqrt(3);
const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be a uint32, got ${seed}`);
    }
    let sm = { state: seed, value: 0 };
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      sm = splitmix32(sm.state);
      words.push(sm.value);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    // splitmix32 output is never all zero for four consecutive draws, but guard the invalid state anyway.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** Zero mean, unit variance, uniform on [-sqrt(3), sqrt(3)). */
  nextUniformUnitVariance(): number {
    return (this.nextFloat() * 2 - 1) * SQRT3;
  }

  /** Approximately standard normal (Irwin-Hall: sum of 12 uniforms minus 6, no transcendental math). */
  nextNormal(): number {
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += this.nextFloat();
    return sum - 6;
  }
}

/** The per-request noise vector a seed stands for (the model's `noise` input, one row). */
export function seedNoise(seed: number, dims: number): Float32Array {
  const random = new SeededRandom(seed);
  const noise = new Float32Array(dims);
  for (let i = 0; i < dims; i++) noise[i] = random.nextUniformUnitVariance();
  return noise;
}
