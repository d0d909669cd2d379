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

export async function verifyAssetSignature(
  key: string,
  exp: string,
  sig: string,
  secret: string,
  nowMs: number,
): Promise<AssetSignatureVerdict> {
  if (!/^\d{1,12}$/.test(exp)) return "invalid";
  // Checked before expiry so a forged URL never learns anything from the answer.
  if (!(await verifyHmacSha256Hex(secret, message(key, Number(exp)), sig))) return "invalid";
  return Number(exp) * 1000 <= nowMs ? "expired" : "valid";
}
