import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
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

// Objects in an S3-API bucket (AWS S3 per region; MinIO, R2 or s3rver locally) under a key prefix.

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Prepended to every key ("outputs/" -> "outputs/<key>"); empty for the bucket root. */
  prefix?: string;
  client: S3Client;
}

export interface S3ClientOptions {
  region?: string;
  /** Custom endpoint for S3-compatible servers; absent = AWS. */
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** A client that also works with S3-compatible servers: checksums only where the API requires them. */
export function createS3Client(opts: S3ClientOptions): S3Client {
  return new S3Client({
    region: opts.region ?? "us-east-1",
    ...(opts.endpoint && { endpoint: opts.endpoint }),
    forcePathStyle: opts.forcePathStyle ?? false,
    ...(opts.credentials && { credentials: opts.credentials }),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

const statusOf = (err: unknown) =>
  err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;

/** `bytes 1-2/5` -> 5. */
function totalFromContentRange(contentRange: string | undefined): number | null {
  const m = /\/(\d+)$/.exec(contentRange ?? "");
  return m ? Number(m[1]) : null;
}

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;

  constructor(opts: S3ObjectStoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ? opts.prefix.replace(/\/*$/, "/") : "";
    this.client = opts.client;
  }

  async put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<ObjectInfo> {
    assertValidKey(key);
    const metadata = normaliseMetadata(opts.metadata);
    const out = await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.prefix + key,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ContentType: opts.contentType,
        Metadata: metadata,
      }),
    );
    if (!out.ETag) throw new Error(`S3 put of ${key} returned no ETag`);
    return { key, size: bytes.byteLength, etag: out.ETag, contentType: opts.contentType, metadata };
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: out.ETag ?? "",
        contentType: out.ContentType ?? "application/octet-stream",
        metadata: out.Metadata ?? {},
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async get(key: string, opts: { range?: ByteRange } = {}): Promise<StoredBody | null> {
    assertValidKey(key);
    const { range } = opts;
    if (range && (range.offset < 0 || (range.length !== undefined && range.length < 1))) {
      throw new RangeNotSatisfiableError(key, range, (await this.head(key))?.size ?? 0);
    }
    const header = range
      ? `bytes=${range.offset}-${range.length === undefined ? "" : range.offset + range.length - 1}`
      : undefined;
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Range: header }),
      );
      if (!out.Body) throw new Error(`S3 get of ${key} returned no body`);
      const body = await out.Body.transformToByteArray();
      const size = range ? totalFromContentRange(out.ContentRange) : body.byteLength;
      if (size === null) throw new Error(`S3 get of ${key} returned no usable Content-Range`);
      return {
        key,
        size,
        etag: out.ETag ?? "",
        contentType: out.ContentType ?? "application/octet-stream",
        metadata: out.Metadata ?? {},
        body,
        ...(range && { range: { offset: range.offset, length: body.byteLength } }),
      };
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return null;
      if (status === 416 && range) {
        throw new RangeNotSatisfiableError(key, range, (await this.head(key))?.size ?? 0);
      }
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
    );
  }
}
