import { z } from "zod";

// The curated dataset `npm run flywheel -- curate` writes and `train` reads: a folder
//   pairs.jsonl   preference pairs, Diffusion-DPO / Pick-a-Pic shape (prompt, chosen, rejected,
//                 label; ties dropped, so label is always 1: chosen preferred)
//   likes.jsonl   the liked outputs with their scores
//   images/       <sha256>.png, each output once
//   manifest.json the files with their sha256, counts, date range, filters; `id` hashes them all
//   README.md     the dataset card
// Image fields are paths relative to the folder when the bytes were exported, else URLs.

export const DATASET_FORMAT = "genart-preference/1";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const ImageRef = z.strictObject({
  generation: z.string(),
  /** "images/<sha256>.png", or the asset's URL when the bytes were not exported. */
  image: z.string(),
  sha256: Sha256.nullable(),
  model: z.string(),
  model_version: z.string(),
  seed: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  /** Engagement score (see docs/flywheel.md, "Curation"). */
  score: z.number(),
});
export type ImageRef = z.infer<typeof ImageRef>;

export const PreferencePair = z.strictObject({
  /** Stable id: sha256 of the two generation ids (the split into train and held-out uses it). */
  id: z.string(),
  prompt: z.string(),
  negative_prompt: z.string().nullable(),
  chosen: ImageRef,
  rejected: ImageRef,
  /** 1: chosen preferred (ties are dropped, never written). */
  label: z.literal(1),
});
export type PreferencePair = z.infer<typeof PreferencePair>;

export const LikedOutput = z.strictObject({
  prompt: z.string(),
  negative_prompt: z.string().nullable(),
  output: ImageRef,
  likes: z.number(),
});
export type LikedOutput = z.infer<typeof LikedOutput>;

export const DatasetFile = z.strictObject({
  path: z.string(),
  sha256: Sha256,
  bytes: z.number().int(),
});

export const DatasetManifest = z.strictObject({
  format: z.literal(DATASET_FORMAT),
  /** sha256 over the files' paths and hashes: the same database state gives the same id. */
  id: Sha256,
  model: z.string(),
  counts: z.strictObject({
    generations_scored: z.number().int(),
    pairs: z.number().int(),
    ties_dropped: z.number().int(),
    likes: z.number().int(),
    images: z.number().int(),
    votes_counted: z.number().int(),
    votes_excluded: z.number().int(),
  }),
  /** Creation times of the outputs included; null when there are none. */
  date_range: z.strictObject({ from: z.string().nullable(), to: z.string().nullable() }),
  filters: z.array(z.string()),
  scoring: z.record(z.string(), z.number()),
  files: z.array(DatasetFile),
});
export type DatasetManifest = z.infer<typeof DatasetManifest>;
