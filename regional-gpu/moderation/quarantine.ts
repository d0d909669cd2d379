import { createHash } from "node:crypto";
import {
  outputKey,
  QUARANTINE_PREFIX,
  type ModerationCategory,
} from "../../contracts/region-protocol.ts";
import type { ObjectStore } from "../../storage/object-store.ts";
import { JOB_FAILURE, JobFailure } from "../errors.ts";
import { encodePng, PNG_CONTENT_TYPE } from "../output/png.ts";
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
  const encodeStarted = performance.now();
  let png: Uint8Array;
  try {
    png = await encodePng(image);
  } catch (err) {
    throw new JobFailure(JOB_FAILURE.encode, `PNG encoding failed: ${(err as Error).message}`, err);
  }
  const sha256 = createHash("sha256").update(png).digest("hex");
  const key = quarantineKey(sha256);
  const encodeMs = performance.now() - encodeStarted;

  const uploadStarted = performance.now();
  try {
    // The same bytes blocked before are there already; the first job's metadata stays.
    const existing = await store.head(key);
    if (existing?.size !== png.byteLength) {
      await store.put(key, png, {
        contentType: PNG_CONTENT_TYPE,
        metadata: {
          sha256,
          width: String(image.width),
          height: String(image.height),
          job_id: context.jobId,
          categories: context.categories.join(","),
        },
      });
    }
  } catch (err) {
    const message = `quarantine upload of ${key} failed: ${(err as Error).message}`;
    throw new JobFailure(JOB_FAILURE.upload, message, err);
  }
  return { key, encodeMs, uploadMs: performance.now() - uploadStarted };
}
