// The one object-store interface: filesystem (embedded default), S3 API (regions), R2 (edge cache).

export interface PutOptions {
  contentType: string;
  /** Long-lived metadata stored beside the object (e.g. sha256). */
  metadata?: Record<string, string>;
}

export interface ByteRange {
  offset: number;
  /** Number of bytes; absent = to the end. */
  length?: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  contentType: string;
  metadata: Record<string, string>;
}

export interface StoredBody extends ObjectInfo {
  body: Uint8Array;
  /** Present when a range was asked for: the bytes actually returned. */
  range?: { offset: number; length: number };
}

export interface ObjectStore {
  put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<ObjectInfo>;
  get(key: string, opts?: { range?: ByteRange }): Promise<StoredBody | null>;
  head(key: string): Promise<ObjectInfo | null>;
  delete(key: string): Promise<void>;
}

/** User metadata keys are case-insensitive and stored lowercased (as S3 returns them). */
export const normaliseMetadata = (m: Record<string, string> = {}): Record<string, string> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));

/** Keys are content-addressed paths of safe characters; anything else is refused before any I/O. */
export function assertValidKey(key: string): void {
  if (
    !/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/i.test(key) ||
    key.includes("..") ||
    key.length > 512
  ) {
    throw new InvalidObjectKeyError(key);
  }
}

/** A byte range that starts at or past the end of the object (HTTP 416). */
export class RangeNotSatisfiableError extends Error {
  readonly code = "range_not_satisfiable";
  readonly size: number;
  constructor(key: string, range: ByteRange, size: number) {
    super(`range ${range.offset}+${range.length ?? "end"} outside ${key} (${size} bytes)`);
    this.name = "RangeNotSatisfiableError";
    this.size = size;
  }
}

/** Clamps a range to an object of `size` bytes; throws when no byte of it exists. */
export function resolveRange(
  key: string,
  range: ByteRange,
  size: number,
): { offset: number; length: number } {
  const { offset, length } = range;
  if (
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    offset >= size ||
    (length !== undefined && (!Number.isSafeInteger(length) || length < 1))
  ) {
    throw new RangeNotSatisfiableError(key, range, size);
  }
  return { offset, length: Math.min(length ?? size - offset, size - offset) };
}

export class InvalidObjectKeyError extends Error {
  readonly code = "invalid_object_key";
  constructor(key: string) {
    super(`invalid object key: ${JSON.stringify(key.slice(0, 80))}`);
    this.name = "InvalidObjectKeyError";
  }
}
