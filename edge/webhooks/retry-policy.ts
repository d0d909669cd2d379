// When to try a failed webhook again: exponential backoff with jitter, a bounded number of
// attempts, and the receiver's Retry-After honoured (up to the cap). The default schedule spans
// about 14 hours: 5 s, 30 s, 3 min, 18 min, 1.8 h, 6 h, 6 h (each +-20%).

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay before the second attempt. */
  baseDelayMs: number;
  /** Each later delay is this many times the one before. */
  factor: number;
  maxDelayMs: number;
  /** Fraction by which a delay is spread either way (0.2: 80% to 120%). */
  jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 5_000,
  factor: 6,
  maxDelayMs: 6 * 3_600_000,
  jitter: 0.2,
};

/**
 * The delay after failed attempt number `attempt` (1 = the first), or null when it was the last.
 * `random` in [0, 1) spreads it; `retryAfterMs` from the receiver sets a floor.
 */
export function retryDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: number,
  retryAfterMs: number | null = null,
): number | null {
  if (attempt >= policy.maxAttempts) return null;
  const nominal = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** (attempt - 1));
  const spread = nominal * (1 - policy.jitter + 2 * policy.jitter * random);
  return Math.round(Math.min(policy.maxDelayMs, Math.max(spread, retryAfterMs ?? 0)));
}

/** Retry-After as milliseconds (delta seconds or an HTTP date); null when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
