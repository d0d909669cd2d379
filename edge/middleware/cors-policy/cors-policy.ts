import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { setFinalHeaders } from "../../lib/final-headers.ts";
import type { AppEnv } from "../../app-env.ts";

/**
 * CORS of the public API (mounted on /v1/* only; /internal/* gets none, so browsers never reach
 * it cross-origin). Any origin may call with a bearer key: no cookies are ever read, so no
 * credentials are allowed and `*` leaks nothing a caller's own key does not already grant.
 */
export const PUBLIC_CORS = {
  origin: "*",
  allowMethods: ["GET", "HEAD", "POST", "DELETE", "OPTIONS"],
  allowHeaders: [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "Prefer",
    "Cache-Control",
    "Last-Event-ID",
    "X-Request-Id",
  ],
  exposeHeaders: [
    "X-Request-Id",
    "Location",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Idempotent-Replayed",
    "Preference-Applied",
  ],
  maxAge: 86_400,
  credentials: false,
} as const;

export const corsPolicy = (): MiddlewareHandler<AppEnv> => {
  const preflight = cors({
    ...PUBLIC_CORS,
    allowMethods: [...PUBLIC_CORS.allowMethods],
    allowHeaders: [...PUBLIC_CORS.allowHeaders],
    exposeHeaders: [...PUBLIC_CORS.exposeHeaders],
  });
  const expose = PUBLIC_CORS.exposeHeaders.join(",");
  const apply = (h: Headers) => {
    h.set("Access-Control-Allow-Origin", PUBLIC_CORS.origin);
    h.set("Access-Control-Expose-Headers", expose);
  };
  return async function corsPolicy(c, next) {
    if (c.req.method === "OPTIONS") return preflight(c, next);
    await next();
    // On the handler's response, after it: hono/cors sets them on c.res before next(), which makes
    // Hono rebuild the handler's response around its body stream (no direct write on Node).
    setFinalHeaders(c, apply);
  };
};
