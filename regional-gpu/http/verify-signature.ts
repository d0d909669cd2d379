import type { MiddlewareHandler } from "hono";
import type { NonceStore } from "../../contracts/replay-guard.ts";
import { verifyRequest, type KeyLookup } from "../../contracts/signing.ts";
import { SignatureError } from "../errors.ts";

// Every /v1 call comes from the edge, signed over method, raw path (with query) and raw body. The body
// is read here once; Hono caches it for the handler. A valid signature seen before is a replay.

export interface VerifySignatureOptions {
  /** This region's current and previous key (contracts/region-keys.ts keySetLookup). */
  keys: KeyLookup;
  now?: () => number;
  nonces?: NonceStore;
}

export const verifySignature = (opts: VerifySignatureOptions): MiddlewareHandler => {
  const { keys, now, nonces } = opts;
  return async function verifySignature(c, next) {
    const { pathname, search } = new URL(c.req.url);
    const body = c.req.method === "GET" || c.req.method === "HEAD" ? "" : await c.req.text();
    const result = await verifyRequest(
      keys,
      { method: c.req.method, path: pathname + search, body },
      c.req.raw.headers,
      now ? { now: now() } : {},
    );
    if (!result.ok) throw new SignatureError(result.reason);
    if (nonces && !(await nonces.firstSighting("edge", result.mac, result.signedAt))) {
      throw new SignatureError("replayed");
    }
    await next();
  };
};
