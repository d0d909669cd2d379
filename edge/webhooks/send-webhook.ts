import { parseRetryAfter } from "./retry-policy.ts";
import { webhookHeaders } from "./signing.ts";

export interface WebhookMessage {
  id: string;
  url: string;
  body: string;
}

export interface SendOutcome {
  /** A 2xx came back. */
  delivered: boolean;
  /** 410 Gone: the receiver wants no more (the spec: stop sending). */
  gone: boolean;
  statusCode: number | null;
  error: string | null;
  retryAfterMs: number | null;
  durationMs: number;
}

export interface SendOptions {
  fetch: typeof fetch;
  /** `whsec_` secrets: the current one first, then any being rotated out. */
  secrets: readonly string[];
  timeoutMs: number;
  now: () => number;
}

const MAX_ERROR_CHARS = 200;

/**
 * One attempt: POSTs the message, signed for this attempt's timestamp. Redirects are not
 * followed (the spec counts a 3xx as a failure, and following one would dodge the target check).
 */
export async function sendWebhook(
  message: WebhookMessage,
  opts: SendOptions,
): Promise<SendOutcome> {
  const started = opts.now();
  const headers = await webhookHeaders(
    opts.secrets,
    message.id,
    Math.floor(started / 1000),
    message.body,
  );
  const done = (o: Omit<SendOutcome, "durationMs">): SendOutcome => ({
    ...o,
    durationMs: Math.max(0, opts.now() - started),
  });
  try {
    const res = await opts.fetch(message.url, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        "user-agent": "genart-webhooks/1",
      },
      body: message.body,
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    // The body is not needed; release the connection.
    await res.body?.cancel().catch(() => {});
    const delivered = res.status >= 200 && res.status < 300;
    return done({
      delivered,
      gone: res.status === 410,
      statusCode: res.status,
      error: delivered ? null : `HTTP ${res.status}`,
      retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), opts.now()),
    });
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    const error = timedOut ? `no answer within ${opts.timeoutMs} ms` : shortError(err);
    return done({ delivered: false, gone: false, statusCode: null, error, retryAfterMs: null });
  }
}

// IPv4 dotted quads and IPv6 groups (with an optional port) inside error messages.
const ADDRESS =
  /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\[?\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\]?(?::\d+)?/gi;

/**
 * What the receiver's owner may see: the error and its cause, no stack, and no address (what this
 * edge's resolver answered for the host is not the caller's to learn).
 */
export function shortError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 3; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ").replace(ADDRESS, "<address>").slice(0, MAX_ERROR_CHARS);
}
