// Opaque, type-prefixed ids. The body is time-ordered (48-bit ms timestamp + 80 random bits, Crockford
// base32, like ULID) so "newest first" lists can page on the id alone.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export const ID_PREFIXES = {
  account: "acct",
  apiKey: "key",
  project: "proj",
  generation: "gen",
  request: "req",
  ledger: "led",
  feedback: "fb",
  moderation: "mod",
  model: "mdl",
  modelVersion: "mv",
  webhookDelivery: "whd",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

function encode(value: bigint, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

export function newId(kind: IdKind, now: number = Date.now()): string {
  const random = crypto.getRandomValues(new Uint8Array(10));
  let r = 0n;
  for (const byte of random) r = (r << 8n) | BigInt(byte);
  return `${ID_PREFIXES[kind]}_${encode(BigInt(now), 10)}${encode(r, 16)}`;
}

export function hasPrefix(id: string, kind: IdKind): boolean {
  return new RegExp(`^${ID_PREFIXES[kind]}_[0-9a-hjkmnp-tv-z]{26}$`).test(id);
}
