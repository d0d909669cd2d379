import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../app-env.ts";
import type { Log } from "../../lib/log.ts";

export interface AccessLogOptions {
  log: Log;
}

/** One JSON line per request: method, path (no query: signed URLs carry secrets), status, time. */
export const accessLog = (opts: AccessLogOptions): MiddlewareHandler<AppEnv> => {
  const { log } = opts;
  return async function accessLog(c, next) {
    const started = performance.now();
    await next();
    log(accessLogEntry(c.get("requestId"), c.req.method, c.req.path, c.res.status, started));
  };
};

/** The line for one request (`started`: performance.now() when it came in). */
export const accessLogEntry = (
  requestId: string,
  method: string,
  path: string,
  status: number,
  started: number,
): Record<string, unknown> => ({
  level: status >= 500 ? "error" : "info",
  msg: "request",
  request_id: requestId,
  method,
  path,
  status,
  duration_ms: Math.round((performance.now() - started) * 10) / 10,
});
