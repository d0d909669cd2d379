import type { Context } from "hono";
import type { EdgeServices } from "../deps.ts";
import type { SerializeContext } from "../generations/serialize.ts";

/** Base of absolute URLs the edge hands out (callbacks, outputs): publicUrl, else this request's origin. */
export const baseUrl = (c: Context, s: EdgeServices) =>
  (s.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, "");

export const serializeContext = (c: Context, s: EdgeServices): SerializeContext => ({
  baseUrl: baseUrl(c, s),
  assetUrlSecret: s.secrets.assetUrl,
  assetUrlTtlS: s.tuning.assetUrlTtlS,
  now: s.clock(),
});
