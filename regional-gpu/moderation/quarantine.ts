import {
  outputKey,
  QUARANTINE_PREFIX,
  type ModerationCategory,
} from "../../contracts/region-protocol.ts";
import type { ObjectStore } from "../../storage/object-store.ts";
import { storePng } from "../output/publish.ts";
import type { RawImage } from "../pipelines/pipeline.ts";

// A blocked output is kept for review under QUARANTINE_PREFIX only: never under its public,
// content-addressed key, so neither the edge cache nor a guessed URL can serve it.

export interface Quarantined {
  key: string;
  encodeMs: number;
  uploadMs: number;
}

export const quarantineKey = (sha256: string) => `${QUARANTINE_PREFIX}${outputKey(sha256, "png")}`;

export async function quarantineImage(
  store: ObjectStore,
  image: RawImage,
  context: { jobId: string; categories: readonly ModerationCategory[] },
): Promise<Quarantined> {
  // The same bytes blocked before are there already; the first job's metadata stays.
  const { key, encodeMs, uploadMs } = await storePng(store, image, quarantineKey, {
    job_id: context.jobId,
    categories: context.categories.join(","),
  });
  return { key, encodeMs, uploadMs };
}
