import { z } from "zod";
import type {
  AdmitDecision,
  AdmitRequest,
  LimiterPolicy,
  LimiterSnapshot,
  ReleaseRequest,
} from "./limiter-protocol.ts";

// One account's counters and the rules over them. Pure and synchronous: whoever holds the state
// (a Durable Object, a Map in this process) applies one call at a time and gets exact limits.

const Hold = z.object({
  reservedMicrousd: z.number(),
  /** Until when it holds a concurrency slot (epoch ms); 0 for none. */
  slotUntil: z.number(),
  openedAt: z.number(),
});

/** Serializable state of one account (what a Durable Object stores). */
export const AccountState = z.object({
  synced: z.boolean(),
  /** UTC month `spentMicrousd` covers. */
  month: z.string(),
  spentMicrousd: z.number(),
  /** Token bucket: `tokens` of `capacity` (the plan's requests per minute) at `refilledAt`. */
  tokens: z.number(),
  capacity: z.number(),
  refilledAt: z.number(),
  /** Admitted generations not yet released, by generation id. */
  open: z.record(z.string(), Hold),
  /** Releases that arrived before the first snapshot, applied (or dropped) by it. */
  pending: z.record(z.string(), z.number()),
  /** Requests refused for concurrency or spend (their token taken), by generation id: when. */
  refused: z.record(z.string(), z.number()).default({}),
});
export type AccountState = z.infer<typeof AccountState>;

export interface AccountLimitsOptions {
  /**
   * A slot not released within this long is freed anyway, so a lost release (a crash between the
   * generation ending and the limiter hearing of it) cannot block the account forever.
   */
  slotLeaseMs?: number;
  /** Holds kept this long awaiting their release; the spend they hold stays counted. */
  holdTtlMs?: number;
  /** Bound on releases remembered while unsynced. */
  maxPending?: number;
}

export const DEFAULT_LIMITS_OPTIONS: Required<AccountLimitsOptions> = {
  slotLeaseMs: 30 * 60_000,
  holdTtlMs: 7 * 24 * 3_600_000,
  maxPending: 10_000,
};

/** "2026-11" for a time in November 2026 UTC. */
export const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7);

/** Start of the UTC month after the one `ms` falls in. */
export function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

export class AccountLimits {
  readonly #options: Required<AccountLimitsOptions>;
  #state: AccountState;
  /**
   * Derived, in memory only: holds whose slot lease is running, valid until the earliest of those
   * leases ends (then recounted). Kept in step by admit and release, so an admit does not scan
   * every open hold (an account with thousands in flight in the relax lane would).
   */
  #slots: { count: number; validUntil: number } | null = null;
  /** Holds past holdTtlMs are forgotten by a sweep at most this often (they hold no slot). */
  #nextSweepAt = 0;

  constructor(state?: AccountState, options: AccountLimitsOptions = {}) {
    this.#options = { ...DEFAULT_LIMITS_OPTIONS, ...options };
    this.#state = state ?? {
      synced: false,
      month: "",
      spentMicrousd: 0,
      tokens: 0,
      capacity: 0,
      refilledAt: 0,
      open: {},
      pending: {},
      refused: {},
    };
  }

  get state(): AccountState {
    return this.#state;
  }

  /**
   * Nothing in flight, nothing waiting and a full bucket: forgetting the state now loses nothing
   * that a fresh snapshot of the ledger would not restore.
   */
  idle(now: number): boolean {
    const s = this.#state;
    const refilled = s.tokens + (Math.max(0, now - s.refilledAt) * s.capacity) / 60_000;
    return Object.keys(s.open).length === 0 && !this.#hasPending() && refilled >= s.capacity;
  }

  admit(request: AdmitRequest, now: number): AdmitDecision {
    const s = this.#state;
    if (!s.synced) {
      if (!request.snapshot) return { outcome: "unsynced" };
      this.#sync(request.snapshot, request.policy, now);
    }
    const { policy } = request;
    this.#advance(policy, now);
    const existing = s.open[request.generationId];
    // A retried admit (its answer was lost): already admitted, take nothing twice.
    if (existing) return this.#admitted(policy, now);

    const usedSlots = this.#slotsInUse(now);
    const ratePerMs = policy.requestsPerMinute / 60_000;
    if (s.tokens < 1 && request.rateToken !== false) {
      return this.#denied("rate", Math.ceil((1 - s.tokens) / ratePerMs / 1000), policy, now);
    }
    // Refused below or not, it was a request: it uses a token (unless it already did).
    if (request.rateToken !== false) s.tokens -= 1;
    if (request.slot && usedSlots >= policy.concurrency) {
      this.#remember(request.generationId, now);
      return this.#denied("concurrency", 1, policy, now);
    }
    const cap = policy.monthlySpendCapMicrousd;
    if (
      cap !== null &&
      request.reserveMicrousd > 0 &&
      s.spentMicrousd + request.reserveMicrousd > cap
    ) {
      this.#remember(request.generationId, now);
      return this.#denied("spend", Math.ceil((nextMonthStart(now) - now) / 1000), policy, now);
    }
    if (request.slot || request.reserveMicrousd > 0) {
      const slotUntil = request.slot ? now + this.#options.slotLeaseMs : 0;
      s.open[request.generationId] = {
        reservedMicrousd: request.reserveMicrousd,
        slotUntil,
        openedAt: now,
      };
      if (request.slot && this.#slots) {
        this.#slots.count += 1;
        this.#slots.validUntil = Math.min(this.#slots.validUntil, slotUntil);
      }
    }
    s.spentMicrousd += request.reserveMicrousd;
    return this.#admitted(policy, now);
  }

  /** True when the release changed something (a repeat, or an unknown id, does not). */
  release(request: ReleaseRequest, now: number): boolean {
    const s = this.#state;
    if (!s.synced) {
      if (Object.keys(s.pending).length >= this.#options.maxPending) return false;
      s.pending[request.generationId] = request.chargedMicrousd;
      return true;
    }
    this.#rollMonth(now);
    const hold = s.open[request.generationId];
    if (request.refundToken && (hold || s.refused[request.generationId] !== undefined)) {
      delete s.refused[request.generationId];
      s.tokens = Math.min(s.capacity, s.tokens + 1);
    }
    if (!hold) return false;
    delete s.open[request.generationId];
    // The earliest lease may have been this one: validUntil stays a safe (early) bound.
    if (this.#slots && hold.slotUntil > now) this.#slots.count -= 1;
    s.spentMicrousd += request.chargedMicrousd - hold.reservedMicrousd;
    return true;
  }

  #sync(snapshot: LimiterSnapshot, policy: LimiterPolicy, now: number): void {
    const s = this.#state;
    s.month = monthOf(now);
    // A snapshot read just before the month turned covers the old month.
    s.spentMicrousd = snapshot.month === s.month ? snapshot.spentMicrousd : 0;
    s.tokens = policy.requestsPerMinute;
    s.capacity = policy.requestsPerMinute;
    s.refilledAt = now;
    s.open = {};
    for (const { generationId, reservedMicrousd } of snapshot.open) {
      s.open[generationId] = {
        reservedMicrousd,
        slotUntil: now + this.#options.slotLeaseMs,
        openedAt: now,
      };
    }
    // A release that raced the snapshot: if the snapshot still has its hold open, it was read
    // before the generation closed, so the release applies; otherwise the sum already has it.
    for (const [generationId, charged] of Object.entries(s.pending)) {
      const hold = s.open[generationId];
      if (!hold) continue;
      delete s.open[generationId];
      s.spentMicrousd += charged - hold.reservedMicrousd;
    }
    s.pending = {};
    s.synced = true;
    this.#slots = null;
  }

  #advance(policy: LimiterPolicy, now: number): void {
    const s = this.#state;
    this.#rollMonth(now);
    const elapsed = Math.max(0, now - s.refilledAt);
    const capacity = policy.requestsPerMinute;
    s.tokens = Math.min(capacity, s.tokens + (elapsed * capacity) / 60_000);
    s.capacity = capacity;
    s.refilledAt = Math.max(s.refilledAt, now);
    if (now >= this.#nextSweepAt) {
      // A hold this old has no running lease (leases are shorter), so the slot count stands.
      for (const [id, hold] of Object.entries(s.open)) {
        if (now - hold.openedAt > this.#options.holdTtlMs) delete s.open[id];
      }
      this.#nextSweepAt = now + Math.min(60_000, this.#options.holdTtlMs);
    }
  }

  /** A refused request's token can be given back (release with refundToken) for a minute. */
  #remember(generationId: string, now: number): void {
    const refused = this.#state.refused;
    let kept = 0;
    for (const [id, at] of Object.entries(refused)) {
      if (now - at > 60_000) delete refused[id];
      else kept += 1;
    }
    // A flood of refusals: the ones remembered keep their place; this one's token stays used.
    if (kept < 1_000) refused[generationId] = now;
  }

  #rollMonth(now: number): void {
    const month = monthOf(now);
    if (this.#state.month === month) return;
    this.#state.month = month;
    this.#state.spentMicrousd = 0;
  }

  #slotsInUse(now: number): number {
    if (this.#slots && now < this.#slots.validUntil) return this.#slots.count;
    let count = 0;
    let validUntil = Infinity;
    for (const hold of Object.values(this.#state.open)) {
      if (hold.slotUntil <= now) continue;
      count += 1;
      validUntil = Math.min(validUntil, hold.slotUntil);
    }
    this.#slots = { count, validUntil };
    return count;
  }

  #hasPending(): boolean {
    for (const _ in this.#state.pending) return true;
    return false;
  }

  #quotas(policy: LimiterPolicy, now: number) {
    const capacity = policy.requestsPerMinute;
    const tokens = this.#state.tokens;
    return {
      rate: {
        limit: capacity,
        remaining: Math.max(0, Math.floor(tokens)),
        resetS: Math.ceil(((capacity - tokens) * 60) / capacity),
      },
      concurrency: {
        limit: policy.concurrency,
        remaining: Math.max(0, policy.concurrency - this.#slotsInUse(now)),
      },
    };
  }

  #admitted(policy: LimiterPolicy, now: number): AdmitDecision {
    return { outcome: "admitted", ...this.#quotas(policy, now) };
  }

  #denied(
    reason: "rate" | "concurrency" | "spend",
    retryAfterS: number,
    policy: LimiterPolicy,
    now: number,
  ): AdmitDecision {
    return {
      outcome: "denied",
      reason,
      retryAfterS: Math.max(1, retryAfterS),
      ...this.#quotas(policy, now),
      spend: {
        capMicrousd: policy.monthlySpendCapMicrousd,
        spentMicrousd: this.#state.spentMicrousd,
      },
    };
  }
}
