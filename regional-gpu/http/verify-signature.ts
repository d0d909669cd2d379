import type { MiddlewareHandler } from "hono";
import { SIGNATURE_HEADER, verifyRequest } from "../../contracts/signing.ts";
import { SignatureError } from "../errors.ts";
import type { ReplayGuard } from "../../contracts/replay-guard.ts";

// Every /v1 call comes from the edge, signed over method, raw path (with query) and raw body. The body
// is read here once; Hono caches it for the handler. A valid signature seen before is a replay.

export interface VerifySignatureOptions {
  secret: string;
  now?: () => number;
  replayGuard?: Pick<ReplayGuard, "firstSighting">;
}

export const verifySignature = (opts: VerifySignatureOptions): MiddlewareHandler => {
  const { secret, now, replayGuard } = opts;
  return async function verifySignature(c, next) {
    const { pathname, search } = new URL(c.req.url);
    const body = c.req.method === "GET" || c.req.method === "HEAD" ? "" : await c.req.text();
    const result = await verifyRequest(
      secret,
      { method: c.req.method, path: pathname + search, body },
      c.req.raw.headers,
      now ? { now: now() } : {},
    );
    if (!result.ok) throw new SignatureError(result.reason);
    if (replayGuard && !replayGuard.firstSighting(c.req.header(SIGNATURE_HEADER)!)) {
      throw new SignatureError("replayed");
    }
    await next();
  };
};
