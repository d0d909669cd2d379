import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../app-env.ts";

export interface AccessLogOptions {
  log: (entry: Record<string, unknown>) => void;
}

/** One JSON line per request: method, path (no query: signed URLs carry secrets), status, time. */
export const accessLog = (opts: AccessLogOptions): MiddlewareHandler<AppEnv> => {
  const { log } = opts;
  return async function accessLog(c, next) {
    const started = performance.now();
    await next();
    log({
      level: c.res.status >= 500 ? "error" : "info",
      msg: "request",
      request_id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    });
  };
};
