import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
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

export const corsPolicy = (): MiddlewareHandler<AppEnv> =>
  cors({
    ...PUBLIC_CORS,
    allowMethods: [...PUBLIC_CORS.allowMethods],
    allowHeaders: [...PUBLIC_CORS.allowHeaders],
    exposeHeaders: [...PUBLIC_CORS.exposeHeaders],
  });
