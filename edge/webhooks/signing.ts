// Standard Webhooks signatures (symmetric, `v1`): base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`
// under the secret's bytes. Web Crypto only, so it runs on Workers, Deno and Node alike.
//
// Each account's secret is random (`whsec_<base64 of 32 bytes>`), stored sealed
// (secret-box.ts) and rotated through the API; while a rotated-out secret is still in its
// overlap, each message carries a signature under each (the spec's zero-downtime rotation).

const encoder = new TextEncoder();
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

/** A new random `whsec_` secret (32 bytes). */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
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
