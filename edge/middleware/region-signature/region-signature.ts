import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { NonceStore } from "../../../contracts/replay-guard.ts";
import { verifyRequest } from "../../../contracts/signing.ts";
import { ApiError } from "../../errors/index.ts";
import {
  DEFAULT_MAX_BODY_BYTES,
  parseJson,
  parseOrThrow,
  readBodyText,
} from "../../validation/index.ts";

/** Which region a key id belongs to, and its secret; null for a key this edge does not hold. */
export type RegionKeyLookup = (keyId: string) => { region: string; secret: string } | null;

/** Who signed the request: the region its key belongs to, the key, and the signed time. */
export interface RegionSigner {
  region: string;
  keyId: string;
  /** The signature's timestamp (ms, whole seconds). */
  signedAt: number;
}

export interface RegionSignatureOptions<S extends z.ZodType> {
  /** Every region's current and previous keys (contracts/region-keys.ts). */
  keys: RegionKeyLookup;
  schema: S;
  clock?: () => number;
  maxBytes?: number;
  /** Refuses a signature already accepted (a replayed request): contracts/replay-guard.ts. */
  nonces?: NonceStore;
}

const REASONS = {
  missing: "request is not signed",
  malformed: "request signature is malformed",
  stale: "request signature is too old or from the future",
  mismatch: "request signature does not match",
  unknown_key: "request is signed with a key this edge does not hold",
  replayed: "request signature was already used",
} as const;

/**
 * Guards the region -> edge routes: the raw body must carry a valid, fresh HMAC signature (401
 * otherwise) under a key of the region the path names (403 for another region's key) before it
 * is parsed; the validated body lands in `c.var.body`, the signer in `c.var.signer`.
 */
export const regionSignature = <S extends z.ZodType>(
  opts: RegionSignatureOptions<S>,
): MiddlewareHandler<{ Variables: { body: z.output<S>; signer: RegionSigner } }> => {
  const { keys, schema } = opts;
  const secretOf = (keyId: string) => keys(keyId)?.secret ?? null;
  const clock = opts.clock ?? Date.now;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async function regionSignature(c, next) {
    const body = await readBodyText(c.req.raw, maxBytes);
    // Path and query as received: what the regions sign (regional-gpu/events/signed-post.ts).
    const { pathname, search } = new URL(c.req.url);
    const path = pathname + search;
    const verdict = await verifyRequest(
      secretOf,
      { method: c.req.method, path, body },
      c.req.raw.headers,
      { now: clock() },
    );
    if (!verdict.ok) {
      throw new ApiError({
        type: "authentication_error",
        code: `signature_${verdict.reason}`,
        message: REASONS[verdict.reason],
      });
    }
    // A node holds its own region's key only: it speaks for that region and no other.
    const region = keys(verdict.keyId)!.region;
    const pathRegion = c.req.param("region");
    if (pathRegion !== undefined && pathRegion !== region) {
      throw new ApiError({
        type: "permission_error",
        code: "key_not_for_region",
        message: `request is signed with a key of region '${region}', not '${pathRegion}'`,
      });
    }
    // Checked after verification: only genuine signatures are remembered, so forgeries cost nothing.
    if (opts.nonces && !(await opts.nonces.firstSighting(region, verdict.mac, verdict.signedAt))) {
      throw new ApiError({
        type: "authentication_error",
        code: "signature_replayed",
        message: REASONS.replayed,
      });
    }
    c.set("signer", { region, keyId: verdict.keyId, signedAt: verdict.signedAt });
    c.set("body", parseOrThrow(schema, parseJson(body)));
    await next();
  };
};
