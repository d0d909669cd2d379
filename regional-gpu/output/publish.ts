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

/** A PNG written once under a key derived from its sha256 (what publish and quarantine share). */
export interface StoredPng {
  key: string;
  sha256: string;
  bytes: number;
  encodeMs: number;
  uploadMs: number;
}

/**
 * Encodes `image` as PNG and stores it under `keyOf(sha256)` unless the same bytes are there
 * already (then the first writer's metadata stays). Encoding and upload failures are JobFailures.
 */
export async function storePng(
  store: ObjectStore,
  image: RawImage,
  keyOf: (sha256: string) => string,
  metadata: Record<string, string> = {},
): Promise<StoredPng> {
  const encodeStarted = performance.now();
  let png: Uint8Array;
  try {
    png = await encodePng(image);
  } catch (err) {
    throw new JobFailure(JOB_FAILURE.encode, `PNG encoding failed: ${(err as Error).message}`, err);
  }
  const sha256 = createHash("sha256").update(png).digest("hex");
  const key = keyOf(sha256);
  const encodeMs = performance.now() - encodeStarted;

  const uploadStarted = performance.now();
  try {
    const existing = await store.head(key);
    if (existing?.size !== png.byteLength) {
      await store.put(key, png, {
        contentType: PNG_CONTENT_TYPE,
        metadata: { sha256, width: String(image.width), height: String(image.height), ...metadata },
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
    key,
    sha256,
    bytes: png.byteLength,
    encodeMs,
    uploadMs: performance.now() - uploadStarted,
  };
}

export async function publishImage(store: ObjectStore, image: RawImage): Promise<Published> {
  const stored = await storePng(store, image, (sha256) => outputKey(sha256, "png"));
  return {
    object: {
      key: stored.key,
      content_type: PNG_CONTENT_TYPE,
      width: image.width,
      height: image.height,
      bytes: stored.bytes,
      sha256: stored.sha256,
    },
    encodeMs: stored.encodeMs,
    uploadMs: stored.uploadMs,
  };
}
