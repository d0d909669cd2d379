import { signRequest } from "../../contracts/signing.ts";

// What the edge does when it calls a region: sign method, path and body, then send.

export async function signedFetch(
  baseUrl: string,
  secret: string,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string>; now?: number } = {},
): Promise<Response> {
  const method = init.method ?? (init.body === undefined ? "GET" : "POST");
  const body = init.body ?? "";
  const signature = await signRequest(secret, { method, path, body }, init.now);
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
