import { z } from "zod";
import { RegionName } from "./region-protocol.ts";
import type { KeyLookup, SigningKey } from "./signing.ts";

// Each region has its own HMAC key (a node can speak for its region only), written
// `<key id>:<secret>` wherever it is configured: REGION_SIGNING_KEY on a region's nodes, and at the
// edge one entry per region in REGION_SIGNING_KEYS. A side may also hold the key being retired
// (`previous`); while it does, it keeps signing with that one and accepts both, so a rotation
// needs no ordering between the edge and the nodes:
//   1. both sides get { current: new, previous: old }, in any order (everyone still signs with old);
//   2. both sides drop `previous`, in any order (each starts signing with new, which the other
//      side already accepts).
// docs/operations.md walks through it.

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_SECRET_CHARS = 32;

/** `<key id>:<secret>`, the secret at least 32 characters (`openssl rand -hex 32`). */
export const SigningKeyText = z.string().transform((text, ctx): SigningKey => {
  const at = text.indexOf(":");
  const id = text.slice(0, Math.max(0, at));
  const secret = text.slice(at + 1);
  if (at < 0 || !KEY_ID.test(id) || secret.length < MIN_SECRET_CHARS) {
    ctx.addIssue({
      code: "custom",
      message: `must be <key id>:<secret>, the id [A-Za-z0-9._-] (at most 64), the secret at least ${MIN_SECRET_CHARS} characters`,
    });
    return z.NEVER;
  }
  return { id, secret };
});

/** A key as text (`<key id>:<secret>`) or already parsed. */
export const SigningKeyInput = z.union([
  SigningKeyText,
  // In process only (tests, benchmarks): environment variables always take the text form.
  z.strictObject({ id: z.string().regex(KEY_ID), secret: z.string().min(16) }),
]);

/** The keys one side holds for one region. */
export const RegionKeySet = z.strictObject({
  current: SigningKeyText,
  /** The key being retired: signed with while set, accepted with `current`. */
  previous: SigningKeyText.optional(),
});
export type RegionKeySet = z.output<typeof RegionKeySet>;

/** REGION_SIGNING_KEYS at the edge: every region's keys; a key id names exactly one region. */
export const RegionKeyMap = z.record(RegionName, RegionKeySet).superRefine((map, ctx) => {
  const owner = new Map<string, string>();
  for (const [region, set] of Object.entries(map)) {
    for (const key of [set.current, set.previous]) {
      if (!key) continue;
      const other = owner.get(key.id);
      if (other !== undefined && other !== region) {
        ctx.addIssue({
          code: "custom",
          path: [region],
          message: `key id ${key.id} is also ${other}'s: each region's key ids are its own`,
        });
      }
      owner.set(key.id, region);
    }
    if (set.previous && set.previous.id === set.current.id) {
      ctx.addIssue({ code: "custom", path: [region], message: "previous has current's id" });
    }
  }
});
export type RegionKeyMap = z.output<typeof RegionKeyMap>;

/** The key a side signs with: the previous one while a rotation is under way (see above). */
export const signingKeyOf = (set: RegionKeySet): SigningKey => set.previous ?? set.current;

/** A lookup over one region's keys (a node verifying the edge). */
export function keySetLookup(set: RegionKeySet): KeyLookup {
  return (id) =>
    id === set.current.id
      ? set.current.secret
      : id === set.previous?.id
        ? set.previous.secret
        : null;
}

/** `<id>:<secret>`, as the variables hold a key. */
export const keyText = (key: SigningKey) => `${key.id}:${key.secret}`;

const encoder = new TextEncoder();

/**
 * One region's key derived from a development secret: HMAC-SHA256(secret, label + region), so a
 * node given its derived key learns nothing of the others'. For the local stack and tests only:
 * deployments generate each region's key (docs/operations.md).
 */
export async function deriveRegionKeySet(devSecret: string, region: string): Promise<RegionKeySet> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(devSecret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    encoder.encode(`genart region signing key v1\u0000${region}`),
  );
  const secret = Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
  return { current: { id: `${region}.dev`, secret } };
}

/** deriveRegionKeySet for each region name. */
export async function deriveRegionKeys(
  devSecret: string,
  regions: readonly string[],
): Promise<RegionKeyMap> {
  const entries = await Promise.all(
    regions.map(async (r) => [r, await deriveRegionKeySet(devSecret, r)] as const),
  );
  return Object.fromEntries(entries);
}
