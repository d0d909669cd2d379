import type { Readable } from "node:stream";

// The cold tier: where model versions are published, laid out as MODEL_DIR is
// (<prefix>/<name>/<version>/manifest.json and the files it names), behind S3 or HTTPS.

export interface RemoteObject {
  body: Readable;
  /** Content-Length, when the store sent one. */
  bytes?: number;
}

export interface RemoteModelStore {
  /** For logs and errors, without credentials: "s3://bucket/prefix", "https://host/prefix/". */
  readonly description: string;
  /**
   * The object at `key` (`<name>/<version>/<file>`), or null when the store has none. Any other
   * failure throws ModelStoreUnreachableError; `signal` aborts the request.
   */
  open(key: string, signal: AbortSignal): Promise<RemoteObject | null>;
  close(): Promise<void>;
}

/** A one-line reason from a network error, with its code. */
export function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${typeof code === "string" ? `${code} ` : ""}${err.message}${cause}`;
}
