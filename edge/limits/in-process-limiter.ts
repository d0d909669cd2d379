import { AccountLimits, type AccountLimitsOptions } from "./account-limits.ts";
import {
  AdmitRequest,
  ReleaseRequest,
  type AccountLimiter,
  type AdmitDecision,
} from "./limiter-protocol.ts";

export interface InProcessLimiterOptions extends AccountLimitsOptions {
  clock?: () => number;
  /** Past this many accounts, idle ones are forgotten (they re-read the ledger on next use). */
  maxAccounts?: number;
}

/**
 * The limiter of Node and Deno: every account's counters in this process. Each call runs to the
 * end without awaiting, so calls for one account never interleave and limits are exact for this
 * process. Several edge processes over one database would each enforce the plan on their own.
 */
export class InProcessAccountLimiter implements AccountLimiter {
  readonly #accounts = new Map<string, AccountLimits>();
  readonly #options: AccountLimitsOptions;
  readonly #clock: () => number;
  readonly #maxAccounts: number;

  constructor({ clock, maxAccounts, ...options }: InProcessLimiterOptions = {}) {
    this.#clock = clock ?? Date.now;
    this.#maxAccounts = maxAccounts ?? 10_000;
    this.#options = options;
  }

  async admit(accountId: string, request: AdmitRequest): Promise<AdmitDecision> {
    const parsed = AdmitRequest.parse(request);
    const now = this.#clock();
    return this.#limitsOf(accountId, now).admit(parsed, now);
  }

  async release(accountId: string, request: ReleaseRequest): Promise<void> {
    const now = this.#clock();
    this.#limitsOf(accountId, now).release(ReleaseRequest.parse(request), now);
  }

  /** Accounts with state in this process (for tests and metrics). */
  get size(): number {
    return this.#accounts.size;
  }

  #limitsOf(accountId: string, now: number): AccountLimits {
    let limits = this.#accounts.get(accountId);
    if (!limits) {
      if (this.#accounts.size >= this.#maxAccounts) this.#forgetIdle(now);
      limits = new AccountLimits(undefined, this.#options);
      this.#accounts.set(accountId, limits);
    }
    return limits;
  }

  #forgetIdle(now: number): void {
    for (const [accountId, limits] of this.#accounts) {
      if (limits.idle(now)) this.#accounts.delete(accountId);
    }
  }
}
