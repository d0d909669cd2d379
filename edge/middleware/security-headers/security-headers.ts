import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../app-env.ts";
import { setFinalHeaders } from "../../lib/final-headers.ts";

export interface SecurityHeadersOptions {
  /** HSTS only in production: development serves plain http on loopback. */
  environment: "development" | "production";
}

/** API answers (JSON, images, event streams) never load anything and are never framed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
export const HSTS = "max-age=63072000; includeSubDomains; preload";

/**
 * Headers every response carries, set after the handler so they also cover onError and notFound.
 * A route serving HTML sets its own Content-Security-Policy, which is kept.
 */
export const securityHeaders = (opts: SecurityHeadersOptions): MiddlewareHandler<AppEnv> => {
  const apply = securityHeadersOf(opts);
  return async function securityHeaders(c, next) {
    await next();
    setFinalHeaders(c, apply);
  };
};

/** Sets the headers on `h` (also for answers given before the middleware chain). */
export function securityHeadersOf(opts: SecurityHeadersOptions): (h: Headers) => void {
  const hsts = opts.environment === "production";
  return (h) => {
    h.set("X-Content-Type-Options", "nosniff");
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "no-referrer");
    if (!h.has("Content-Security-Policy")) h.set("Content-Security-Policy", API_CSP);
    if (hsts) h.set("Strict-Transport-Security", HSTS);
  };
}
