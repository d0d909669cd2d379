import { signRequest, type SigningKey } from "../../contracts/signing.ts";

// One signed JSON POST from the region to the edge. The signed path is the URL's path and query, as the
// receiving server sees it.

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export interface SignedPostResult {
  status: number;
}

export async function signedPost(
  fetchImpl: Fetch,
  key: SigningKey,
  url: string,
  payload: unknown,
  opts: { timeoutMs: number; requestId?: string; signal?: AbortSignal },
): Promise<SignedPostResult> {
  const body = JSON.stringify(payload);
  const { pathname, search } = new URL(url);
  const headers = await signRequest(key, { method: "POST", path: pathname + search, body });
  const res = await fetchImpl(url, {
    method: "POST",
    headers: {
      ...headers,
      "content-type": "application/json",
      ...(opts.requestId && { "x-request-id": opts.requestId }),
    },
    body,
    signal: opts.signal
      ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)])
      : AbortSignal.timeout(opts.timeoutMs),
  });
  // Drain the body so the connection can be reused.
  await res.arrayBuffer().catch(() => undefined);
  return { status: res.status };
}
