// HMAC-SHA256 request signing between the edge and the regions (WebCrypto: runs on Workers, Deno, Node).
// Signed string: `${timestamp}.${METHOD}.${path}.${body}`; header
// `x-genart-signature: keyid=<key id>,v1=<hex>`. Every region has keys of its own
// (contracts/region-keys.ts); the key id tells the receiver which one signed, so it can hold a
// current and a previous key during a rotation and know which region is speaking.
// With an `x-genart-nonce` header (random, 32 hex; what signRequest sends) the signed string is
// `${timestamp}.${nonce}.${METHOD}.${path}.${body}`, so two otherwise identical requests in the same
// second carry different signatures and a receiver can refuse a replayed one
// (contracts/replay-guard.ts). Requests without a nonce still verify.

export const SIGNATURE_HEADER = "x-genart-signature";
export const TIMESTAMP_HEADER = "x-genart-timestamp";
export const NONCE_HEADER = "x-genart-nonce";
const NONCE = /^[0-9a-f]{32}$/;
const SIGNATURE = /^keyid=([A-Za-z0-9._-]{1,64}),v1=([0-9a-f]{64})$/;

/** One HMAC key and the id it is known by (`<region>.<label>`, e.g. `eu-west.2026-11`). */
export interface SigningKey {
  id: string;
  secret: string;
}

/** The secret of a key id this side accepts, or null for an unknown id. */
export type KeyLookup = (keyId: string) => string | null;
export const DEFAULT_TOLERANCE_S = 300;

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keyCache.set(secret, key);
  }
  return key;
}

const toHex = (buf: ArrayBuffer) =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export interface SignedParts {
  method: string;
  path: string;
  body: string;
}

// Methods are upper-cased and nonces lower-case hex: the two forms can never sign the same string.
const payload = (ts: string, nonce: string | null, p: SignedParts) =>
  encoder.encode(
    `${ts}.${nonce === null ? "" : `${nonce}.`}${p.method.toUpperCase()}.${p.path}.${p.body}`,
  );

const newNonce = () => toHex(crypto.getRandomValues(new Uint8Array(16)).buffer);

export async function signRequest(
  key: SigningKey,
  parts: SignedParts,
  now: number = Date.now(),
): Promise<Record<string, string>> {
  const ts = String(Math.floor(now / 1000));
  const nonce = newNonce();
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(key.secret),
    payload(ts, nonce, parts),
  );
  return {
    [TIMESTAMP_HEADER]: ts,
    [NONCE_HEADER]: nonce,
    [SIGNATURE_HEADER]: `keyid=${key.id},v1=${toHex(mac)}`,
  };
}

export type VerifyFailure = "missing" | "malformed" | "stale" | "unknown_key" | "mismatch";

export type VerifyResult =
  | {
      ok: true;
      keyId: string;
      /** The signed timestamp (ms; whole seconds): when the sender says it sent the request. */
      signedAt: number;
      /** The MAC (hex): what a replay guard remembers. */
      mac: string;
    }
  | { ok: false; reason: VerifyFailure };

/** Checks a request's signature under whichever accepted key its key id names. */
export async function verifyRequest(
  keys: KeyLookup,
  parts: SignedParts,
  headers: { get(name: string): string | null | undefined },
  opts: { now?: number; toleranceS?: number } = {},
): Promise<VerifyResult> {
  const ts = headers.get(TIMESTAMP_HEADER);
  const sig = headers.get(SIGNATURE_HEADER);
  if (!ts || !sig) return { ok: false, reason: "missing" };
  const nonce = headers.get(NONCE_HEADER) ?? null;
  const m = SIGNATURE.exec(sig);
  const mac = m ? fromHex(m[2]!) : null;
  if (!/^\d{1,12}$/.test(ts) || !m || !mac || (nonce !== null && !NONCE.test(nonce))) {
    return { ok: false, reason: "malformed" };
  }
  const ageS = Math.abs((opts.now ?? Date.now()) / 1000 - Number(ts));
  if (ageS > (opts.toleranceS ?? DEFAULT_TOLERANCE_S)) return { ok: false, reason: "stale" };
  const secret = keys(m[1]!);
  if (secret === null) return { ok: false, reason: "unknown_key" };
  // subtle.verify compares in constant time.
  const ok = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    mac,
    payload(ts, nonce, parts),
  );
  if (!ok) return { ok: false, reason: "mismatch" };
  return { ok: true, keyId: m[1]!, signedAt: Number(ts) * 1000, mac: m[2]! };
}
