import type { Pipeline } from "../pipelines/pipeline.ts";

// Accelerator milliseconds per output megapixel at batch 1: the number pricing and routing use.
// Median of timed runs after a warm-up run (the first run pays for allocation and kernel setup).

export interface MeasureOptions {
  side?: number;
  runs?: number;
  prompt?: string;
}

export async function measureMsPerMegapixel(
  pipeline: Pipeline,
  options: MeasureOptions = {},
): Promise<number> {
  const { side = 512, runs = 5, prompt = "a quiet harbour at dawn, teal and amber" } = options;
  const request = (seed: number) => ({ prompt, seed, width: side, height: side });
  await pipeline.run([request(0)]);
  const times: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const start = performance.now();
    await pipeline.run([request(i)]);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return median / ((side * side) / 1e6);
}
