import ipaddr from "ipaddr.js";

// Limits on what submits do not cover (edge/README.md, Security): reads per account, open event
// streams and `Prefer: wait` holds per account, and failed authentications per client address.
// Kept in this process (per isolate on Workers), bounded, and forgotten once idle; exact on Node
// and Deno, per isolate on Workers (the submit limits are the exact, Durable Object-backed ones).

/** Tokens refilled evenly: `perMinute` a minute, at most `perMinute` saved up. */
class Buckets {
  readonly #perMinute: number;
  readonly #maxKeys: number;
  readonly #state = new Map<string, { tokens: number; at: number }>();

  constructor(perMinute: number, maxKeys: number) {
    this.#perMinute = perMinute;
    this.#maxKeys = maxKeys;
  }

  #refilled(key: string, now: number): { tokens: number; at: number } {
    const saved = this.#state.get(key);
    const tokens = saved
      ? Math.min(this.#perMinute, saved.tokens + ((now - saved.at) * this.#perMinute) / 60_000)
      : this.#perMinute;
    return { tokens, at: now };
  }

  /** Seconds until a token is there; 0 when there is one now. */
  waitS(key: string, now: number): number {
    const { tokens } = this.#refilled(key, now);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 60) / this.#perMinute);
  }

  /** Takes a token; false (taking nothing) when there is none. */
  take(key: string, now: number): boolean {
    const bucket = this.#refilled(key, now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    this.#state.delete(key);
    this.#state.set(key, bucket);
    // Full buckets carry no information: past the bound, the least recently used go first.
    while (this.#state.size > this.#maxKeys) {
      const oldest = this.#state.keys().next().value;
      if (oldest === undefined) break;
      this.#state.delete(oldest);
    }
    return true;
  }
}

export interface AccessLimitsOptions {
  readsPerMinute: number;
  maxEventStreams: number;
  maxWaitingRequests: number;
  failedAuthPerMinute: number;
  votesPerMinute: number;
  clock?: () => number;
  /** Accounts and clients remembered at once (idle ones are forgotten first). */
  maxTracked?: number;
}

export type HoldKind = "stream" | "wait";

export class AccessLimits {
  readonly #o: Required<AccessLimitsOptions>;
  readonly #reads: Buckets;
  readonly #failures: Buckets;
  readonly #votes: Buckets;
  readonly #held = new Map<string, number>();

  constructor(opts: AccessLimitsOptions) {
    this.#o = { clock: Date.now, maxTracked: 100_000, ...opts };
    this.#reads = new Buckets(opts.readsPerMinute, this.#o.maxTracked);
    this.#failures = new Buckets(opts.failedAuthPerMinute, this.#o.maxTracked);
    this.#votes = new Buckets(opts.votesPerMinute, this.#o.maxTracked);
  }

  /** A read by the account: null when allowed, else seconds to wait (Retry-After). */
  read(accountId: string): number | null {
    const now = this.#o.clock();
    if (this.#reads.take(accountId, now)) return null;
    return Math.max(1, this.#reads.waitS(accountId, now));
  }

  /** A vote cast or withdrawn by the account: null when allowed, else seconds to wait. */
  vote(accountId: string): number | null {
    const now = this.#o.clock();
    if (this.#votes.take(accountId, now)) return null;
    return Math.max(1, this.#votes.waitS(accountId, now));
  }

  /**
   * Holds one of the account's stream or wait slots; a release function, or null when all are
   * taken. Release it when the stream ends or the wait is over (idempotent).
   */
  hold(kind: HoldKind, accountId: string): (() => void) | null {
    const key = `${kind}:${accountId}`;
    const max = kind === "stream" ? this.#o.maxEventStreams : this.#o.maxWaitingRequests;
    const held = this.#held.get(key) ?? 0;
    if (held >= max) return null;
    this.#held.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#held.get(key) ?? 1) - 1;
      if (left <= 0) this.#held.delete(key);
      else this.#held.set(key, left);
    };
  }

  /** Seconds the client must wait before its next unproven key is looked up; 0 when it may. */
  failedAuthWaitS(client: string): number {
    return this.#failures.waitS(clientKey(client), this.#o.clock());
  }

  /** A failed authentication by the client: uses one of its attempts. */
  failedAuth(client: string): void {
    this.#failures.take(clientKey(client), this.#o.clock());
  }
}

/** One key per client: an IPv4 address, or an IPv6 /64 (what one subscriber usually holds). */
export function clientKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === "ipv4") return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(":")}::/64`;
}
