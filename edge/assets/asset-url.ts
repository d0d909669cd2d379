import { hmacSha256Hex, verifyHmacSha256Hex } from "../lib/digest.ts";

export const ASSETS_PATH = "/v1/assets";
export const DEFAULT_ASSET_URL_TTL_S = 7 * 24 * 3600;
// Expiry is rounded up to this step so a Generation read twice shows the same URL (browser caches).
const EXPIRY_STEP_S = 3600;

const message = (key: string, exp: number) => `genart-asset.v1.${key}.${exp}`;

/** `/v1/assets/<key>?exp=<unix>&sig=<hex>`: lets anyone holding it read one private asset until exp. */
export async function signedAssetPath(
  key: string,
  secret: string,
  nowMs: number,
  ttlS: number = DEFAULT_ASSET_URL_TTL_S,
): Promise<string> {
  const exp = Math.ceil((nowMs / 1000 + ttlS) / EXPIRY_STEP_S) * EXPIRY_STEP_S;
  const sig = await hmacSha256Hex(secret, message(key, exp));
  return `${ASSETS_PATH}/${key}?exp=${exp}&sig=${sig}`;
}

export type AssetSignatureVerdict = "valid" | "expired" | "invalid";

// Signatures already verified, per secret: a cached asset is fetched again and again by the same
// signed URL, and an HMAC costs more than serving it from memory. Only good MACs are remembered
// (a forger cannot fill this), expiry is checked on every use, and the oldest go past the bound.
const VERIFIED_MAX = 10_000;
const verified = new Map<string, Set<string>>();

function rememberVerified(secret: string, entry: string): void {
  let set = verified.get(secret);
  if (!set) verified.set(secret, (set = new Set()));
  set.add(entry);
  if (set.size > VERIFIED_MAX) set.delete(set.values().next().value!);
}

export async function verifyAssetSignature(
  key: string,
  exp: string,
  sig: string,
  secret: string,
  nowMs: number,
): Promise<AssetSignatureVerdict> {
  if (!/^\d{1,12}$/.test(exp)) return "invalid";
  const msg = message(key, Number(exp));
  const entry = `${sig}.${msg}`;
  // Checked before expiry so a forged URL never learns anything from the answer.
  if (!verified.get(secret)?.has(entry)) {
    if (!(await verifyHmacSha256Hex(secret, msg, sig))) return "invalid";
    rememberVerified(secret, entry);
  }
  return Number(exp) * 1000 <= nowMs ? "expired" : "valid";
}
