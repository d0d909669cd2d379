import { ApiError } from "../errors/index.ts";
import { chooseRange, contentRange, etagMatches } from "../../storage/http-range.ts";

export interface AssetBody {
  bytes: Uint8Array;
  contentType: string;
  /** Hex SHA-256 of the bytes: the strong ETag. */
  sha256: string;
  cacheControl: string;
}

/** 200, 206 (Range), 304 (If-None-Match) or a 416 ApiError, with the caching headers of API.md. */
export function assetResponse(req: Request, asset: AssetBody): Response {
  const etag = `"${asset.sha256}"`;
  const headers = new Headers({
    ETag: etag,
    "Cache-Control": asset.cacheControl,
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
  });
  if (etagMatches(req.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("Content-Type", asset.contentType);
  const size = asset.bytes.byteLength;
  // If-Range: a range is only served against the representation the client already has.
  const ifRange = req.headers.get("if-range");
  const range =
    ifRange && ifRange !== etag
      ? { kind: "full" as const }
      : chooseRange(req.headers.get("range"), size);
  if (range.kind === "unsatisfiable") {
    throw new ApiError({
      type: "invalid_request_error",
      code: "range_not_satisfiable",
      message: `the requested range is outside the asset (${size} bytes)`,
      status: 416,
      headers: { "Content-Range": `bytes */${size}` },
    });
  }
  if (range.kind === "partial") {
    const { offset, length } = range;
    headers.set("Content-Range", contentRange(offset, length, size));
    headers.set("Content-Length", String(length));
    return new Response(asset.bytes.slice(offset, offset + length), { status: 206, headers });
  }
  headers.set("Content-Length", String(size));
  // Object stores hand out plain ArrayBuffer-backed views; the cast only widens the DOM typing.
  return new Response(asset.bytes as Uint8Array<ArrayBuffer>, { status: 200, headers });
}
