import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../app-env.ts";
import { ASSETS_PATH, verifyAssetSignature } from "../../assets/asset-url.ts";
import { isServableKey } from "../../assets/load-asset.ts";
import type { Log } from "../../lib/log.ts";
import type { ResponseCache } from "../../assets/response-cache.ts";
import { assetCacheKey, isPlainGet } from "../../routes/assets.ts";
import { accessLogEntry } from "../access-log/index.ts";
import { REQUEST_ID_HEADER, requestIdOf } from "../request-id/index.ts";
import { securityHeadersOf } from "../security-headers/index.ts";

export interface CachedAssetOptions {
  responseCache: ResponseCache | undefined;
  environment: "development" | "production";
  /** The key signed asset URLs are checked with. */
  assetUrlSecret: string;
  clock: () => number;
  log: Log;
  /**
   * Whether reports have hidden the output since it was cached (HiddenAssets): then the chain
   * answers (451). Absent: nothing is hidden.
   */
  hidden?: (key: string) => Promise<boolean>;
}

const PREFIX = `${ASSETS_PATH}/`;

/**
 * Cached public assets answered before the middleware chain. Mounted first: a plain anonymous GET
 * (no Range, If-Range, If-None-Match, Origin or Authorization; a signed URL only with a valid
 * signature) of an asset the response cache holds (only public ones are put there) is answered
 * with the stored bytes, the headers every answer carries (request id, security headers) and its
 * access-log line. Everything else goes down the chain, which answers it as before.
 */
export const cachedAsset = (opts: CachedAssetOptions): MiddlewareHandler<AppEnv> => {
  const { responseCache: cache, clock, log } = opts;
  const secure = securityHeadersOf(opts);
  return async function cachedAsset(c, next) {
    const started = performance.now();
    const req = c.req.raw;
    const path = c.req.path;
    if (
      !cache ||
      req.method !== "GET" ||
      !path.startsWith(PREFIX) ||
      !isPlainGet(req) ||
      req.headers.has("origin") ||
      req.headers.has("authorization")
    ) {
      return next();
    }
    const key = path.slice(PREFIX.length);
    if (key.includes("%") || !isServableKey(key)) return next();
    const exp = c.req.query("exp");
    const sig = c.req.query("sig");
    if (exp !== undefined || sig !== undefined) {
      const verdict = await verifyAssetSignature(
        key,
        exp ?? "",
        sig ?? "",
        opts.assetUrlSecret,
        clock(),
      );
      if (verdict !== "valid") return next();
    }
    if (await opts.hidden?.(key)) return next();
    const hit = await cache.match(assetCacheKey(key, req.url));
    if (!hit || hit.status !== 200 || !hit.headers.has("etag")) return next();
    const id = requestIdOf(req);
    const finish = (h: Headers) => {
      h.set(REQUEST_ID_HEADER, id);
      secure(h);
    };
    let res = hit;
    try {
      finish(res.headers);
    } catch {
      // Workers give the Cache API's responses immutable headers: a copy takes ours.
      res = new Response(hit.body, hit);
      finish(res.headers);
    }
    log(accessLogEntry(id, req.method, path, 200, started));
    return res;
  };
};
