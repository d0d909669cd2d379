import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "../../contracts/zod.ts";
import { recordAssetFetch } from "../../db/queries/feedback.ts";
import { findGenerationByAssetKey } from "../../db/queries/generations.ts";
import type { AppEnv } from "../app-env.ts";
import { assetResponse, type AssetBody } from "../assets/asset-response.ts";
import { ASSETS_PATH, verifyAssetSignature } from "../assets/asset-url.ts";
import { isContentAddressed, isServableKey, loadAsset } from "../assets/load-asset.ts";
import type { EdgeServices } from "../deps.ts";
import { ApiError, notFound } from "../errors/index.ts";
import { hiddenOutput } from "../feedback/hidden-output.ts";
import { optionalAuth } from "../middleware/auth/index.ts";
import { errorResponses } from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";

const ONE_YEAR_S = 31_536_000;

function cacheControl(key: string, visibility: "public" | "private"): string {
  return isContentAddressed(key)
    ? `${visibility}, max-age=${ONE_YEAR_S}, immutable`
    : `${visibility}, max-age=300`;
}

/** No Range, If-Range or If-None-Match: the full stored response is the answer. */
export const isPlainGet = (req: Request) =>
  !req.headers.has("range") && !req.headers.has("if-range") && !req.headers.has("if-none-match");

/** What the response cache holds an asset under: its path without the signature. */
export const assetCacheKey = (key: string, url: string) =>
  new Request(new URL(`${ASSETS_PATH}/${key}`, url));

const assetNotFound = () => notFound("no such asset", "asset_not_found");

async function fromCachedResponse(res: Response): Promise<AssetBody | null> {
  const etag = res.headers.get("etag");
  const cc = res.headers.get("cache-control");
  if (res.status !== 200 || !etag || !cc) return null;
  return {
    bytes: new Uint8Array(await res.arrayBuffer()),
    contentType: res.headers.get("content-type") ?? "application/octet-stream",
    sha256: etag.replace(/^W\//, "").replaceAll('"', ""),
    cacheControl: cc,
  };
}

const assetRoute = createRoute({
  operationId: "getAsset",
  method: "get",
  path: "/{key}",
  summary: "Download an output",
  description:
    "The image bytes. Content-addressed keys are immutable (`Cache-Control: immutable`); `ETag` / `If-None-Match` (304) and `Range` (206) are honoured. Public projects' outputs are open to anyone; private ones need the owner's key or the signed `output.url` (`exp`, `sig`).",
  tags: ["Assets"],
  security: [{}, { apiKey: [] }],
  request: {
    params: z.object({
      key: z.string().openapi({
        param: { name: "key", in: "path" },
        description: "The asset key, as in a generation's `output.url` (may contain `/`).",
      }),
    }),
    query: z.object({
      exp: z.string().optional().openapi({ description: "Signed URL: expiry (unix seconds)." }),
      sig: z.string().optional().openapi({ description: "Signed URL: HMAC signature." }),
    }),
  },
  responses: {
    200: {
      description: "The asset.",
      content: { "image/png": { schema: z.string().openapi({ format: "binary" }) } },
    },
    206: { description: "The requested byte range." },
    304: { description: "Not modified (`If-None-Match` matched the ETag)." },
    ...errorResponses(403, 404, 451),
  },
});

/**
 * GET /v1/assets/:key. Lookup: response cache -> edge store -> origin region (fills the store).
 * Access: a valid signed URL, a public project, or the owner's key; a bad signature is 403.
 */
export function assetRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  // Declared for /openapi.json only: keys contain slashes, which `{key}` routing cannot match.
  app.openAPIRegistry.registerPath(assetRoute);
  const loadDeps = {
    assets: s.assets,
    fetch: s.fetch,
    keys: s.keyring,
    clock: s.clock,
    timeoutMs: s.tuning.originTimeoutMs,
    waitUntil: s.waitUntil,
    log: s.log,
  };

  app.get("/:key{.+}", optionalAuth(s.access), async (c) => {
    const key = c.req.param("key");
    if (!isServableKey(key)) throw assetNotFound();

    const exp = c.req.query("exp");
    const sig = c.req.query("sig");
    const signed = exp !== undefined || sig !== undefined;
    if (signed) {
      const verdict = await verifyAssetSignature(
        key,
        exp ?? "",
        sig ?? "",
        s.secrets.assetUrl,
        s.clock(),
      );
      if (verdict !== "valid") {
        throw new ApiError({
          type: "permission_error",
          code: verdict === "expired" ? "signed_url_expired" : "invalid_signature",
          message:
            verdict === "expired"
              ? "this signed URL has expired: read the generation again for a fresh one"
              : "the signature of this URL is not valid",
        });
      }
    }

    const caller = c.var.caller;
    // Downloads by an account: engagement for curation, and what makes its later votes count.
    const served = <R>(response: R): R => {
      if (caller) s.waitUntil(recordAssetFetch(s.db, caller.account.id, key, new Date(s.clock())));
      return response;
    };
    // Only public assets are put in the response cache, so a hit may be served to anyone, unless
    // reports have hidden the output since (then the database decides, below).
    const cacheKey = assetCacheKey(key, c.req.url);
    const hidden = await s.hiddenAssets.has(key);
    const hit = !hidden && s.responseCache && (await s.responseCache.match(cacheKey));
    // A plain GET takes the stored response as it is: no copy of the bytes, no second Response.
    if (hit && hit.status === 200 && hit.headers.has("etag") && isPlainGet(c.req.raw)) {
      return served(hit);
    }
    const cached = hit ? await fromCachedResponse(hit) : null;
    if (cached) return served(assetResponse(c.req.raw, cached));

    const owner = await findGenerationByAssetKey(s.db, key, { accountId: caller?.account.id });
    if (!owner) throw assetNotFound();
    const own = owner.accountId === caller?.account.id;
    // Removed after review: gone for everyone. Hidden pending review: its owner (by key or by the
    // signed URL only it was given) still sees it.
    if (owner.removed) throw hiddenOutput("removed");
    if (owner.hidden && !own && !signed) throw hiddenOutput("pending");
    const isPublic = owner.visibility === "public" && !owner.hidden;
    if (!signed && !isPublic && !own) {
      throw new ApiError({
        type: "permission_error",
        code: "asset_private",
        message:
          "this asset belongs to a private project: use the owner's API key or the signed output.url",
      });
    }
    const origin = owner.region === null ? undefined : s.directory.get(owner.region);
    const loaded = await loadAsset(key, origin, c.var.requestId, loadDeps);
    if (!loaded) throw assetNotFound();

    const asset: AssetBody = {
      bytes: loaded.bytes,
      contentType: owner.contentType ?? loaded.contentType,
      sha256: owner.outputSha256 ?? loaded.sha256,
      cacheControl: cacheControl(key, isPublic ? "public" : "private"),
    };
    if (isPublic && s.responseCache) {
      s.waitUntil(s.responseCache.put(cacheKey, assetResponse(new Request(cacheKey), asset)));
    }
    return served(assetResponse(c.req.raw, asset));
  });

  return app;
}
