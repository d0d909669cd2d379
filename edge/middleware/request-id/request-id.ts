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

export const requestId = (opts: RequestIdOptions = {}): MiddlewareHandler<AppEnv> => {
  const accept = opts.accept ?? WELL_FORMED;
  const generate = opts.generate ?? (() => newId("request"));
  return async function requestId(c, next) {
    const incoming = c.req.header(REQUEST_ID_HEADER);
    const id = incoming !== undefined && accept.test(incoming) ? incoming : generate();
    c.set("requestId", id);
    await next();
    // After next(): also covers responses built outside c (raw Response objects, onError, notFound).
    setFinalHeaders(c, (h) => h.set(REQUEST_ID_HEADER, id));
  };
};
