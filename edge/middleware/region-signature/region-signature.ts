import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { verifyRequest } from "../../../contracts/signing.ts";
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
}

const REASONS = {
  missing: "request is not signed",
  malformed: "request signature is malformed",
  stale: "request signature is too old or from the future",
  mismatch: "request signature does not match",
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
    const path = new URL(c.req.url).pathname;
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
    c.set("body", parseOrThrow(schema, parseJson(body)));
    await next();
  };
};
