import { request } from "undici";
import { signRequest, type SigningKey } from "../../contracts/signing.ts";

// One signed JSON POST from the region to the edge. The signed path is the URL's path and query, as the
// receiving server sees it.

/** What a sender needs of an HTTP client: global fetch fits, and tests pass one that fails on cue. */
export type Fetch = (
  input: string,
  init: RequestInit,
) => Promise<Pick<Response, "status" | "arrayBuffer">>;

/**
 * The default client: undici's request API (keep-alive pool per origin). On loopback it takes about
 * a third of fetch's CPU per event and a quarter of its latency (0.20 vs 0.52 ms CPU, 0.37 vs 1.45 ms;
 * docs/benchmarks.md), which every job pays twice (`running`, then its outcome).
 */
export const undiciFetch: Fetch = async (input, init) => {
  const res = await request(input, {
    method: "POST",
    headers: init.headers as Record<string, string>,
    body: init.body as string,
    signal: init.signal ?? undefined,
  });
  return { status: res.statusCode, arrayBuffer: () => res.body.arrayBuffer() };
};

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
