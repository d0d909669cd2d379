import type { R2Bucket, R2Object, R2ObjectBody } from "@cloudflare/workers-types";
import {
  assertValidKey,
  normaliseMetadata,
  RangeNotSatisfiableError,
  type ByteRange,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type StoredBody,
} from "./object-store.ts";

// Objects in an R2 bucket binding: the edge's asset cache on Workers. R2's httpEtag is the quoted MD5
// of a single-part upload, the same ETag the filesystem and S3 stores report.

/** The part of an R2 binding this store uses (any real R2Bucket satisfies it). */
export type R2BucketLike = Pick<R2Bucket, "get" | "head" | "put" | "delete">;

const infoOf = (key: string, obj: R2Object): ObjectInfo => ({
  key,
  size: obj.size,
  etag: obj.httpEtag,
  contentType: obj.httpMetadata?.contentType ?? "application/octet-stream",
  metadata: normaliseMetadata(obj.customMetadata),
});

export class R2ObjectStore implements ObjectStore {
  private readonly bucket: R2BucketLike;
  private readonly prefix: string;

  /** `prefix` ("outputs/") namespaces the keys inside a bucket shared with other data. */
  constructor(bucket: R2BucketLike, opts: { prefix?: string } = {}) {
    this.bucket = bucket;
    this.prefix = opts.prefix ? opts.prefix.replace(/\/*$/, "/") : "";
  }

  async put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<ObjectInfo> {
    assertValidKey(key);
    const obj = await this.bucket.put(this.prefix + key, bytes, {
      httpMetadata: { contentType: opts.contentType },
      customMetadata: normaliseMetadata(opts.metadata),
    });
    return infoOf(key, obj);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    const obj = await this.bucket.head(this.prefix + key);
    return obj && infoOf(key, obj);
  }

  async get(key: string, opts: { range?: ByteRange } = {}): Promise<StoredBody | null> {
    assertValidKey(key);
    const { range } = opts;
    if (range && !isWellFormed(range)) await this.unsatisfiable(key, range);
    let obj: R2ObjectBody | null;
    try {
      obj = await this.bucket.get(this.prefix + key, range ? { range } : {});
    } catch (err) {
      // R2 rejects a range that starts past the end (error 10039); tell that apart from a real failure.
      const info = range ? await this.head(key) : null;
      if (range && info && range.offset >= info.size) await this.unsatisfiable(key, range);
      throw err;
    }
    if (!obj) return null;
    const body = new Uint8Array(await obj.arrayBuffer());
    return {
      ...infoOf(key, obj),
      body,
      ...(range && { range: { offset: range.offset, length: body.byteLength } }),
    };
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.bucket.delete(this.prefix + key);
  }

  private async unsatisfiable(key: string, range: ByteRange): Promise<never> {
    throw new RangeNotSatisfiableError(key, range, (await this.head(key))?.size ?? 0);
  }
}

const isWellFormed = ({ offset, length }: ByteRange) =>
  Number.isSafeInteger(offset) &&
  offset >= 0 &&
  (length === undefined || (Number.isSafeInteger(length) && length >= 1));
