import { encodePng } from "../output/png.ts";
import type { ImageRequest, Pipeline } from "../pipelines/pipeline.ts";
import { processCpuMs, summarise, type Summary } from "./stats.ts";

// The raw limit: a tight loop of one pipeline run (session.run and its tensor plumbing) plus PNG
// encoding of every image of the batch, at one shape and batch size, nothing else. What the served
// path is measured against.

export interface RawLoopOptions {
  side: number;
  batch: number;
  durationMs: number;
  prompt: string;
}

export interface RawLoopResult {
  batch: number;
  images: number;
  seconds: number;
  imagesPerS: number;
  /** Per loop iteration (run + encode of the whole batch): the latency of a lone image at batch 1. */
  iterationMs: Summary;
  /** Of which session.run and pre/post-processing, per iteration. */
  runMs: Summary;
  /** CPU time of this process (all threads) per image: unaffected by other processes' load. */
  cpuMsPerImage: number;
}

export async function rawLoop(pipeline: Pipeline, opts: RawLoopOptions): Promise<RawLoopResult> {
  const requests = (iteration: number): ImageRequest[] =>
    Array.from({ length: opts.batch }, (_, i) => ({
      prompt: opts.prompt,
      seed: iteration * opts.batch + i,
      width: opts.side,
      height: opts.side,
    }));
  // One untimed iteration: the first run pays for allocations and kernel selection.
  await Promise.all((await pipeline.run(requests(0))).map(encodePng));
  const iterations: number[] = [];
  const runs: number[] = [];
  const cpuStarted = processCpuMs();
  const started = performance.now();
  for (let i = 1; performance.now() - started < opts.durationMs; i++) {
    const t0 = performance.now();
    const images = await pipeline.run(requests(i));
    const t1 = performance.now();
    await Promise.all(images.map(encodePng));
    iterations.push(performance.now() - t0);
    runs.push(t1 - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  const images = iterations.length * opts.batch;
  const cpuMsPerImage = (processCpuMs() - cpuStarted) / images;
  return {
    batch: opts.batch,
    images,
    seconds,
    imagesPerS: images / seconds,
    iterationMs: summarise(iterations),
    runMs: summarise(runs),
    cpuMsPerImage,
  };
}
