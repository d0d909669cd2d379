import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { SIGNATURE_HEADER, verifyRequest } from "../../../contracts/signing.ts";
import { ApiError } from "../../errors/index.ts";
import {
  DEFAULT_MAX_BODY_BYTES,
  parseJson,
  parseOrThrow,
  readBodyText,
} from "../../validation/index.ts";

export interface RegionSignatureOptions<S extends z.ZodType> {
  /** Shared HMAC secret of the edge and its regions. */
  secret: string;
  schema: S;
  clock?: () => number;
  maxBytes?: number;
  /** Refuses a signature already accepted (a replayed request): contracts/replay-guard.ts. */
  replayGuard?: { firstSighting(signature: string): boolean };
}

const REASONS = {
  missing: "request is not signed",
  malformed: "request signature is malformed",
  stale: "request signature is too old or from the future",
  mismatch: "request signature does not match",
  replayed: "request signature was already used",
} as const;

/**
 * Guards the region -> edge routes: the raw body must carry a valid, fresh HMAC signature (401
 * otherwise) before it is parsed; the validated body lands in `c.var.body`.
 */
export const regionSignature = <S extends z.ZodType>(
  opts: RegionSignatureOptions<S>,
): MiddlewareHandler<{ Variables: { body: z.output<S> } }> => {
  const { secret, schema } = opts;
  const clock = opts.clock ?? Date.now;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async function regionSignature(c, next) {
    const body = await readBodyText(c.req.raw, maxBytes);
    // Path and query as received: what the regions sign (regional-gpu/events/signed-post.ts).
    const { pathname, search } = new URL(c.req.url);
    const path = pathname + search;
    const verdict = await verifyRequest(
      secret,
      { method: c.req.method, path, body },
      c.req.raw.headers,
      {
        now: clock(),
      },
    );
    if (!verdict.ok) {
      throw new ApiError({
        type: "authentication_error",
        code: `signature_${verdict.reason}`,
        message: REASONS[verdict.reason],
      });
    }
    // Checked after verification: only genuine signatures are remembered, so forgeries cost nothing.
    if (opts.replayGuard && !opts.replayGuard.firstSighting(c.req.header(SIGNATURE_HEADER)!)) {
      throw new ApiError({
        type: "authentication_error",
        code: "signature_replayed",
        message: REASONS.replayed,
      });
    }
    c.set("body", parseOrThrow(schema, parseJson(body)));
    await next();
  };
};
