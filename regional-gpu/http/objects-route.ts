import type { Context } from "hono";
import {
  assertValidKey,
  InvalidObjectKeyError,
  type ObjectInfo,
  type ObjectStore,
} from "../../storage/object-store.ts";
import { InvalidRequestError, RegionHttpError } from "../errors.ts";
import { chooseRange, contentRange } from "../../storage/http-range.ts";

// GET/HEAD /v1/objects/:key: stored bytes for the edge's asset cache, with ETag, If-None-Match (304)
// and single-range requests (206/416). Object metadata travels as x-genart-meta-* headers.

const CONTENT_ADDRESSED = /^(?:quarantine\/)?[0-9a-f]{64}\.(?:png|webp)$/;

function baseHeaders(info: ObjectInfo): Headers {
  const headers = new Headers({
    "content-type": info.contentType,
    etag: info.etag,
    "accept-ranges": "bytes",
    // A content-addressed key never changes its bytes.
    "cache-control": CONTENT_ADDRESSED.test(info.key)
      ? "private, max-age=31536000, immutable"
      : "private, no-cache",
  });
  for (const [k, v] of Object.entries(info.metadata)) headers.set(`x-genart-meta-${k}`, v);
  return headers;
}

// Stores hand out plain (never shared) buffers; the DOM typings only say ArrayBufferLike.
const asBody = (bytes: Uint8Array) => bytes as Uint8Array<ArrayBuffer>;

export const rangeNotSatisfiable = (size: number) =>
  new InvalidRequestError("range_not_satisfiable", `range outside the object (${size} bytes)`, {
    status: 416,
    headers: { "content-range": `bytes */${size}` },
  });

const etagMatches = (header: string | undefined, etag: string) =>
  header !== undefined &&
  (header.trim() === "*" ||
    header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag.replace(/^W\//, "")));

function validKey(c: Context): string {
  const key = c.req.param("key") ?? "";
  try {
    assertValidKey(key);
  } catch (err) {
    if (err instanceof InvalidObjectKeyError) {
      throw new InvalidRequestError("invalid_object_key", err.message, { param: "key" });
    }
    throw err;
  }
  return key;
}

/**
 * DELETE REGION_PATHS.object(key) (signed by the edge): an output removed after review. Deleting
 * an object that is not there succeeds too, so the edge's sweep can retry freely.
 */
export const deleteObject = (store: ObjectStore) =>
  async function deleteObject(c: Context): Promise<Response> {
    const key = validKey(c);
    await store.delete(key);
    return Response.json({ key, deleted: true });
  };

export const serveObject = (store: ObjectStore) =>
  async function serveObject(c: Context): Promise<Response> {
    const key = validKey(c);
    const info = await store.head(key);
    if (!info) throw new RegionHttpError("not_found_error", "object_not_found", `no object ${key}`);
    const headers = baseHeaders(info);
    if (etagMatches(c.req.header("if-none-match"), info.etag)) {
      return new Response(null, { status: 304, headers });
    }
    const range = chooseRange(c.req.header("range"), info.size);
    if (range.kind === "unsatisfiable") throw rangeNotSatisfiable(info.size);
    const isHead = c.req.method === "HEAD";
    if (range.kind === "partial") {
      headers.set("content-range", contentRange(range.offset, range.length, info.size));
      headers.set("content-length", String(range.length));
      if (isHead) return new Response(null, { status: 206, headers });
      const got = await store.get(key, { range });
      if (!got)
        throw new RegionHttpError("not_found_error", "object_not_found", `no object ${key}`);
      return new Response(asBody(got.body), { status: 206, headers });
    }
    headers.set("content-length", String(info.size));
    if (isHead) return new Response(null, { status: 200, headers });
    const got = await store.get(key);
    if (!got) throw new RegionHttpError("not_found_error", "object_not_found", `no object ${key}`);
    return new Response(asBody(got.body), { status: 200, headers });
  };
