import { z } from "zod";
import type { ModelManifest } from "../../contracts/model-manifest.ts";

// The contract every image pipeline kind implements (cppn-text2img now; multi-stage text encoder ->
// denoiser -> decoder pipelines later), so the batcher and model pool need not know which runs.

export const ImageRequest = z.strictObject({
  prompt: z.string(),
  negativePrompt: z.string().optional(),
  seed: z.number().int().min(0).max(0xffffffff),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** A style vector (manifest `style.space`) blended in by `strength`; only for models with one. */
  style: z
    .strictObject({ vector: z.array(z.number()), strength: z.number().min(0).max(1) })
    .optional(),
});
export type ImageRequest = z.infer<typeof ImageRequest>;

/** Raw interleaved RGB, row-major: what sharp takes as `{ raw: { width, height, channels: 3 } }`. */
export interface RawImage {
  width: number;
  height: number;
  channels: 3;
  data: Uint8Array;
  /** The style vector the image was drawn with (models whose manifest has `style`). */
  style?: Float32Array;
}

export interface Pipeline {
  readonly manifest: ModelManifest;
  /** Runs one batch; all requests share width and height. Results are in request order. */
  run(batch: ImageRequest[]): Promise<RawImage[]>;
}

/** A batch or request the pipeline cannot run (bad shape, mixed sizes): the caller's fault, not the model's. */
export class PipelineInputError extends Error {
  readonly code = "pipeline_input_invalid";
  override readonly name = "PipelineInputError";
}

/** Checks a batch against the manifest's limits; returns the shared size. */
export function validateBatch(
  manifest: ModelManifest,
  batch: readonly ImageRequest[],
): { width: number; height: number } {
  if (batch.length === 0) throw new PipelineInputError("batch is empty");
  for (const request of batch) {
    const parsed = ImageRequest.safeParse(request);
    if (!parsed.success)
      throw new PipelineInputError(`invalid request: ${z.prettifyError(parsed.error)}`);
  }
  for (const { style } of batch) {
    if (!style) continue;
    if (!manifest.style) {
      throw new PipelineInputError(`${manifest.name}@${manifest.version} takes no style`);
    }
    if (style.vector.length !== manifest.style.dims || !style.vector.every(Number.isFinite)) {
      throw new PipelineInputError(
        `a style vector must be ${manifest.style.dims} finite numbers, got ${style.vector.length}`,
      );
    }
  }
  const { width, height } = batch[0]!;
  if (batch.some((r) => r.width !== width || r.height !== height)) {
    const sizes = [...new Set(batch.map((r) => `${r.width}x${r.height}`))].join(", ");
    throw new PipelineInputError(
      `all requests in a batch must share width and height, got ${sizes}`,
    );
  }
  const { min_side, max_side, multiple_of } = manifest.limits;
  for (const side of [width, height]) {
    if (side < min_side || side > max_side || side % multiple_of !== 0) {
      throw new PipelineInputError(
        `${width}x${height}: sides must be ${min_side}..${max_side} and multiples of ${multiple_of}`,
      );
    }
  }
  return { width, height };
}
