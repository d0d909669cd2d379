// Standard Webhooks signatures (symmetric, `v1`): base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`
// under the secret's bytes. Web Crypto only, so it runs on Workers, Deno and Node alike.
//
// Each account's secret is derived, not stored: HMAC-SHA256(edge signing key, label + account id),
// shown as `whsec_<base64 of 32 bytes>`. Nothing to provision or leak from the database; rotating
// the edge key rotates every account's secret, and while both keys are configured each message
// carries a signature under each (the spec's zero-downtime rotation).

const encoder = new TextEncoder();
const DERIVATION_LABEL = "genart webhook signing secret v1\u0000";
export const SECRET_PREFIX = "whsec_";

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    // A copy over a plain ArrayBuffer, as every runtime's Web Crypto types accept.
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message)));
}

/** The `whsec_` secret of one account under the edge's signing key. */
export async function accountWebhookSecret(signingKey: string, accountId: string): Promise<string> {
  const bytes = await hmac(encoder.encode(signingKey), DERIVATION_LABEL + accountId);
  return SECRET_PREFIX + toBase64(bytes);
}

/** `v1,<base64>`: the signature of one message attempt under a `whsec_` secret. */
export async function signWebhook(
  secret: string,
  msgId: string,
  timestampS: number,
  body: string,
): Promise<string> {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error("a webhook secret starts with whsec_");
  const key = fromBase64(secret.slice(SECRET_PREFIX.length));
  return `v1,${toBase64(await hmac(key, `${msgId}.${timestampS}.${body}`))}`;
}

/** The three Standard Webhooks headers of one attempt, signed under each of `secrets`. */
export async function webhookHeaders(
  secrets: readonly string[],
  msgId: string,
  timestampS: number,
  body: string,
): Promise<Record<string, string>> {
  const signatures = await Promise.all(secrets.map((s) => signWebhook(s, msgId, timestampS, body)));
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestampS),
    "webhook-signature": signatures.join(" "),
  };
}

/**
 * The key webhook secrets derive from: `webhookSigning` when configured, else one derived from the
 * region signing secret (a separate label keeps the two uses apart).
 */
export function webhookSigningKeyOf(secrets: {
  regionSigning: string;
  webhookSigning?: string;
}): string {
  return (
    secrets.webhookSigning ?? `webhook-signing-key-from-region-secret:${secrets.regionSigning}`
  );
}
