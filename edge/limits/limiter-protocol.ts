import { z } from "zod";

// What the edge asks of an account's limiter and what it answers. The same messages go to the
// in-process limiter (Node, Deno) and, as JSON, to the account's Durable Object (Workers).

/** The plan's numbers the limiter enforces, sent with every admission (plans can change). */
export const LimiterPolicy = z.strictObject({
  requestsPerMinute: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  /** null: no monthly cap. */
  monthlySpendCapMicrousd: z.number().int().nonnegative().nullable(),
});
export type LimiterPolicy = z.infer<typeof LimiterPolicy>;

/** The account's spend as the usage ledger records it, for a limiter that has no state yet. */
export const LimiterSnapshot = z.strictObject({
  /** UTC month the sum covers, "2026-11". */
  month: z.string().regex(/^\d{4}-\d{2}$/),
  spentMicrousd: z.number().int(),
  open: z
    .array(z.strictObject({ generationId: z.string().min(1), reservedMicrousd: z.number().int() }))
    .max(100_000),
});
export type LimiterSnapshot = z.infer<typeof LimiterSnapshot>;

export const AdmitRequest = z.strictObject({
  /** Admissions are keyed by generation: a repeated admit for the same id changes nothing. */
  generationId: z.string().min(1).max(128),
  policy: LimiterPolicy,
  /** Spend held until the generation settles; 0 for an answer that costs nothing. */
  reserveMicrousd: z.number().int().nonnegative(),
  /** Whether it takes a concurrency slot (work that will be queued or running). */
  slot: z.boolean(),
  /**
   * false: this request's rate token was taken already, by an admission of the same request that
   * was refused for concurrency or spend (it is now answered from the dedup cache): take none.
   */
  rateToken: z.boolean().optional(),
  /** Sent after an `unsynced` answer; ignored by a limiter that already has state. */
  snapshot: LimiterSnapshot.optional(),
});
export type AdmitRequest = z.infer<typeof AdmitRequest>;

export const ReleaseRequest = z.strictObject({
  generationId: z.string().min(1).max(128),
  /** What the generation finally cost the account (0 when refunded). */
  chargedMicrousd: z.number().int().nonnegative(),
  /**
   * The admission turned out not to be a request of its own (an Idempotency-Key replay found
   * after admitting it): its rate token is given back too, once, whether it was admitted or
   * refused for concurrency or spend. A replay consumes nothing.
   */
  refundToken: z.boolean().optional(),
});
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

const count = z.number().int().nonnegative();
/** Requests per minute: a token bucket of `limit` tokens refilled evenly over 60 s. */
export const RateQuota = z.object({ limit: count, remaining: count, resetS: count });
export const SlotQuota = z.object({ limit: count, remaining: count });

export const DenialReason = z.enum(["rate", "concurrency", "spend"]);
export type DenialReason = z.infer<typeof DenialReason>;

export const AdmitDecision = z.discriminatedUnion("outcome", [
  z.object({ outcome: z.literal("admitted"), rate: RateQuota, concurrency: SlotQuota }),
  z.object({
    outcome: z.literal("denied"),
    reason: DenialReason,
    retryAfterS: z.number().int().positive(),
    rate: RateQuota,
    concurrency: SlotQuota,
    spend: z.object({ capMicrousd: z.number().int().nullable(), spentMicrousd: z.number().int() }),
  }),
  /** No state for the account yet: admit again with a snapshot of its ledger. */
  z.object({ outcome: z.literal("unsynced") }),
]);
export type AdmitDecision = z.infer<typeof AdmitDecision>;

/**
 * Exact per-account counters: rate, concurrency and monthly spend. Every call for one account is
 * applied one at a time against one state (a Durable Object per account on Workers, a map entry
 * in this process on Node and Deno), so concurrent admissions can never overshoot a limit.
 */
export interface AccountLimiter {
  /** All or nothing: admitted takes a token, the slot and the reservation together. */
  admit(accountId: string, request: AdmitRequest): Promise<AdmitDecision>;
  /** Frees the slot and turns the reservation into the charge. Repeats change nothing. */
  release(accountId: string, request: ReleaseRequest): Promise<void>;
}
