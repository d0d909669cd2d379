import { signRequest, type SigningKey } from "../../contracts/signing.ts";

// What the edge does when it calls a region: sign method, path and body, then send.

/** The key id tests give a region's key (region config `signingKey: testKey(SECRET)`). */
export const TEST_KEY_ID = "test";
export const testKey = (secret: string): SigningKey => ({ id: TEST_KEY_ID, secret });

export async function signedFetch(
  baseUrl: string,
  /** A key, or a secret under TEST_KEY_ID. */
  secret: string | SigningKey,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string>; now?: number } = {},
): Promise<Response> {
  const method = init.method ?? (init.body === undefined ? "GET" : "POST");
  const body = init.body ?? "";
  const key = typeof secret === "string" ? testKey(secret) : secret;
  const signature = await signRequest(key, { method, path, body }, init.now);
  return fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...signature,
      ...(init.body !== undefined && { "content-type": "application/json" }),
      ...init.headers,
    },
    ...(init.body !== undefined && { body: init.body }),
  });
}
