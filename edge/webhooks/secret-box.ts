import { z } from "zod";

// The accounts' webhook secrets rest in the database encrypted: AES-256-GCM (Web Crypto: Workers,
// Deno, Node) under a key from configuration (WEBHOOK_SECRETS_KEY, `<key id>:<base64 of 32 bytes>`),
// with the account id as associated data, so a row copied to another account does not decrypt.
// Each row names the key id it was sealed with: during a rotation of the key,
// WEBHOOK_SECRETS_KEY_PREVIOUS still opens the older rows, and each is resealed under the current
// key when it is next read (webhook-dispatcher.ts); docs/operations.md says when to drop PREVIOUS.

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** `<key id>:<base64 of 32 random bytes>` (`openssl rand -base64 32`). */
export const SecretsKeyText = z.string().transform((text, ctx) => {
  const at = text.indexOf(":");
  const id = text.slice(0, Math.max(0, at));
  let bytes: Uint8Array | null = null;
  try {
    bytes = Uint8Array.from(atob(text.slice(at + 1)), (c) => c.charCodeAt(0));
  } catch {
    bytes = null;
  }
  if (at < 0 || !KEY_ID.test(id) || !bytes || bytes.length !== 32) {
    ctx.addIssue({
      code: "custom",
      message: "must be <key id>:<base64 of 32 bytes> (openssl rand -base64 32)",
    });
    return z.NEVER;
  }
  return { id, key: text.slice(at + 1) };
});
export type SecretsKey = z.output<typeof SecretsKeyText>;

export interface SecretsKeySet {
  current: SecretsKey;
  /** Opens rows sealed before a rotation of the key; never seals. */
  previous?: SecretsKey;
}

/** A sealed secret as stored: the key id and base64(iv || ciphertext || tag). */
export interface SealedSecret {
  keyId: string;
  ciphertext: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export class WebhookSecretBox {
  readonly #keys: Map<string, Promise<CryptoKey>>;
  readonly #currentId: string;

  constructor(keys: SecretsKeySet) {
    this.#currentId = keys.current.id;
    this.#keys = new Map(
      [keys.current, keys.previous]
        .filter((k): k is SecretsKey => !!k)
        .map((k) => [
          k.id,
          crypto.subtle.importKey("raw", fromBase64(k.key), "AES-GCM", false, [
            "encrypt",
            "decrypt",
          ]),
        ]),
    );
  }

  get currentKeyId(): string {
    return this.#currentId;
  }

  async seal(plaintext: string, accountId: string): Promise<SealedSecret> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const key = await this.#keys.get(this.#currentId)!;
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: encoder.encode(accountId) },
        key,
        encoder.encode(plaintext),
      ),
    );
    const out = new Uint8Array(iv.length + sealed.length);
    out.set(iv);
    out.set(sealed, iv.length);
    return { keyId: this.#currentId, ciphertext: toBase64(out) };
  }

  /** The plaintext; throws when the key id is not configured or the row was tampered with. */
  async open(sealed: SealedSecret, accountId: string): Promise<string> {
    const key = this.#keys.get(sealed.keyId);
    if (!key) {
      throw new Error(
        `webhook secret sealed with key ${sealed.keyId}, which is neither WEBHOOK_SECRETS_KEY nor WEBHOOK_SECRETS_KEY_PREVIOUS`,
      );
    }
    const bytes = fromBase64(sealed.ciphertext);
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, 12), additionalData: encoder.encode(accountId) },
      await key,
      bytes.slice(12),
    );
    return decoder.decode(plain);
  }
}
