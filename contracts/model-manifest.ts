import { z } from "zod";

// What a model version is and how to run it: written next to the model files by the build, read by the
// regional model pool, stored with model_versions. File paths are relative to the manifest's folder.

export const TensorType = z.enum(["float32", "float16", "int64", "int32", "int8", "uint8", "bool"]);
export type TensorType = z.infer<typeof TensorType>;

/** One graph input or output; a string dimension is symbolic (e.g. "batch"). */
export const TensorSpec = z.strictObject({
  name: z.string().min(1),
  type: TensorType,
  shape: z.array(z.union([z.number().int().nonnegative(), z.string().min(1)])),
});
export type TensorSpec = z.infer<typeof TensorSpec>;

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");

/** A plain file name or sub-path inside the manifest's folder: never absolute, never "..". */
export const ManifestFile = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.includes("\\") && !p.split("/").includes(".."), {
    message: "must be a relative path inside the model folder",
  });

/**
 * How requests are turned into model inputs and outputs into images. Single-graph kinds use `file`;
 * multi-stage kinds (text encoder -> denoiser loop -> decoder) also list their graphs in `stages`.
 */
export const PipelineKind = z.enum(["cppn-text2img"]);
export type PipelineKind = z.infer<typeof PipelineKind>;

export const ModelStage = z.strictObject({
  name: z.string().min(1),
  file: ManifestFile,
  sha256: Sha256Hex,
  bytes: z.number().int().positive(),
  inputs: z.array(TensorSpec).min(1),
  outputs: z.array(TensorSpec).min(1),
});
export type ModelStage = z.infer<typeof ModelStage>;

export const TokenizerSpec = z.strictObject({
  /** UTF-8 text, one word per line; the word on line n (1-based) has token id n, 0 is unknown. */
  kind: z.literal("word-vocab"),
  file: ManifestFile,
  sha256: Sha256Hex,
  max_tokens: z.number().int().positive(),
});
export type TokenizerSpec = z.infer<typeof TokenizerSpec>;

/**
 * A model that takes a style: a vector in a named space (e.g. a latent and palette) blended into
 * what the prompt gives by a per-image strength (0: exactly no style). Every image's own vector
 * comes back on `output`, so a later request can reference it; a per-account taste profile is a
 * vector of the same space. Vectors of versions that share `space` are interchangeable.
 */
export const StyleSpec = z.strictObject({
  /** float32 [batch, dims]: the style vector (zeros where an image has none). */
  input: z.string().min(1),
  /** float32 [batch, 1]: 0..1. */
  strength_input: z.string().min(1),
  /** float32 [batch, dims]: the vector each image was drawn with. */
  output: z.string().min(1),
  dims: z.number().int().positive().max(4096),
  space: z.string().regex(/^[a-z0-9][a-z0-9./_-]{0,127}$/),
});
export type StyleSpec = z.infer<typeof StyleSpec>;

/**
 * How a larger copy of an image is made (POST /v1/generations/:id/upscale): `rerender` runs the
 * model again at the larger size (resolution-independent pipelines: new detail, same picture);
 * `resample` scales the stored image (Lanczos-3).
 */
export const UpscaleMethod = z.enum(["rerender", "resample"]);
export type UpscaleMethod = z.infer<typeof UpscaleMethod>;

/** How a trained version came about (flywheel/train): what `GET /v1/models` shows as its parent. */
export const ModelLineage = z.strictObject({
  /** "name@version" of the version it was trained from. */
  parent: z.string().min(1),
  parent_version: z.string().min(1),
  parent_sha256: Sha256Hex,
  dataset: z.strictObject({
    id: Sha256Hex,
    format: z.string(),
    pairs: z.number().int().nonnegative(),
    likes: z.number().int().nonnegative(),
  }),
  /** What was fitted and with which parameters. */
  training: z.record(z.string(), z.unknown()),
  /**
   * Held-out pairs: how often the version's outputs for the prompt are nearer (by `distance`) the
   * chosen than the rejected image, against the parent's rate. A rollout needs `beats_parent`.
   */
  offline_eval: z.strictObject({
    distance: z.string(),
    held_out_pairs: z.number().int().nonnegative(),
    win_rate: z.number(),
    parent_win_rate: z.number(),
    beats_parent: z.boolean(),
  }),
});
export type ModelLineage = z.infer<typeof ModelLineage>;

export const ModelManifest = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
    version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    pipeline: PipelineKind,
    /** The main (or only) graph. */
    file: ManifestFile,
    sha256: Sha256Hex,
    bytes: z.number().int().positive(),
    inputs: z.array(TensorSpec).min(1),
    outputs: z.array(TensorSpec).min(1),
    stages: z.array(ModelStage).min(1).optional(),
    /** Absent: the model takes no style (requests with one are refused: style_not_supported). */
    style: StyleSpec.optional(),
    /** Absent: resample. */
    upscale: UpscaleMethod.optional(),
    tokenizer: TokenizerSpec,
    output: z.strictObject({ channels: z.literal(3), format: z.literal("uint8-rgb") }),
    limits: z
      .strictObject({
        min_side: z.number().int().positive(),
        max_side: z.number().int().positive(),
        multiple_of: z.number().int().positive(),
      })
      .refine((l) => l.min_side <= l.max_side, { message: "min_side must not exceed max_side" }),
    /** Accelerator time per output megapixel at batch 1, for pricing and routing estimates. */
    gpu_ms_per_megapixel: z.number().positive(),
    /** Where that was measured: "cpu", or the accelerator (e.g. "cuda:NVIDIA H100"). */
    measured_on: z.string().min(1),
    created_by: z.string().min(1),
    /** Present on trained versions. */
    lineage: ModelLineage.optional(),
  })
  .refine((m) => !m.stages || new Set(m.stages.map((s) => s.name)).size === m.stages.length, {
    message: "stage names must be unique",
    path: ["stages"],
  })
  .refine(
    ({ style, inputs, outputs }) =>
      !style ||
      ([style.input, style.strength_input].every((n) => inputs.some((i) => i.name === n)) &&
        outputs.some((o) => o.name === style.output)),
    { message: "style must name tensors the manifest lists", path: ["style"] },
  );
export type ModelManifest = z.infer<typeof ModelManifest>;
