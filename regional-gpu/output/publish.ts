import { createHash } from "node:crypto";
import { outputKey, type StoredObject } from "../../contracts/region-protocol.ts";
import type { ObjectStore } from "../../storage/object-store.ts";
import { JOB_FAILURE, JobFailure } from "../errors.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import { encodePng, PNG_CONTENT_TYPE } from "./png.ts";

// One generated image -> PNG -> content-addressed object. An object already stored under its key is
// the same bytes (the key is their sha256), so it is not uploaded again.

export interface Published {
  object: StoredObject;
  encodeMs: number;
  uploadMs: number;
}

export async function publishImage(store: ObjectStore, image: RawImage): Promise<Published> {
  const encodeStarted = performance.now();
  let png: Uint8Array;
  try {
    png = await encodePng(image);
  } catch (err) {
    throw new JobFailure(JOB_FAILURE.encode, `PNG encoding failed: ${(err as Error).message}`, err);
  }
  const sha256 = createHash("sha256").update(png).digest("hex");
  const key = outputKey(sha256, "png");
  const encodeMs = performance.now() - encodeStarted;

  const uploadStarted = performance.now();
  try {
    const existing = await store.head(key);
    if (existing?.size !== png.byteLength) {
      await store.put(key, png, {
        contentType: PNG_CONTENT_TYPE,
        metadata: { sha256, width: String(image.width), height: String(image.height) },
      });
    }
  } catch (err) {
    throw new JobFailure(
      JOB_FAILURE.upload,
      `upload of ${key} failed: ${(err as Error).message}`,
      err,
    );
  }
  return {
    object: {
      key,
      content_type: PNG_CONTENT_TYPE,
      width: image.width,
      height: image.height,
      bytes: png.byteLength,
      sha256,
    },
    encodeMs,
    uploadMs: performance.now() - uploadStarted,
  };
}
