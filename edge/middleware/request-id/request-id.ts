import type { MiddlewareHandler } from "hono";
import { setFinalHeaders } from "../../lib/final-headers.ts";
import { newId } from "../../../contracts/ids.ts";
import type { AppEnv } from "../../app-env.ts";

export const REQUEST_ID_HEADER = "X-Request-Id";

export interface RequestIdOptions {
  /** Incoming ids matching this are kept so a caller's id follows the request through every hop. */
  accept?: RegExp;
  generate?: () => string;
}

// Printable, header- and log-safe, bounded: anything else is replaced, never echoed.
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

/** The request's id: the caller's when well formed, else a new one. */
export const requestIdOf = (req: Request, opts: RequestIdOptions = {}): string => {
  const incoming = req.headers.get(REQUEST_ID_HEADER);
  return incoming !== null && (opts.accept ?? WELL_FORMED).test(incoming)
    ? incoming
    : (opts.generate ?? (() => newId("request")))();
};

export const requestId = (opts: RequestIdOptions = {}): MiddlewareHandler<AppEnv> => {
  return async function requestId(c, next) {
    const id = requestIdOf(c.req.raw, opts);
    c.set("requestId", id);
    await next();
    // After next(): also covers responses built outside c (raw Response objects, onError, notFound).
    setFinalHeaders(c, (h) => h.set(REQUEST_ID_HEADER, id));
  };
};
