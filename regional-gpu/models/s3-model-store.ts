import type { Readable } from "node:stream";
import { GetObjectCommand, S3ServiceException, type S3Client } from "@aws-sdk/client-s3";
import { ModelStoreUnreachableError } from "./model-errors.ts";
import {
  describeNetworkError,
  type RemoteModelStore,
  type RemoteObject,
} from "./remote-model-store.ts";

// A model store in an S3-API bucket (S3, R2, MinIO): GetObject <prefix><name>/<version>/<file>,
// streamed. Time bounds come from the caller's signal (the download's stall guard).

export interface S3ModelStoreOptions {
  bucket: string;
  /** Prepended to every key; empty for the bucket root. */
  prefix?: string;
  client: S3Client;
}

const isNotFound = (err: unknown) =>
  err instanceof S3ServiceException &&
  (err.name === "NoSuchKey" || err.$metadata.httpStatusCode === 404);

export class S3ModelStore implements RemoteModelStore {
  readonly description: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;

  constructor(opts: S3ModelStoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ? opts.prefix.replace(/\/*$/, "/") : "";
    this.client = opts.client;
    this.description = `s3://${this.bucket}/${this.prefix}`;
  }

  async open(key: string, signal: AbortSignal): Promise<RemoteObject | null> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
        { abortSignal: signal },
      );
      if (!out.Body) throw new Error("GetObject returned no body");
      return {
        body: out.Body as Readable,
        ...(out.ContentLength !== undefined && { bytes: out.ContentLength }),
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      const status = err instanceof S3ServiceException ? ` (${err.$metadata.httpStatusCode})` : "";
      throw new ModelStoreUnreachableError(
        this.description,
        `GetObject ${key}${status}: ${describeNetworkError(err)}`,
        err,
      );
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
