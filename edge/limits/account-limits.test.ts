import { describe, expect, it } from "vitest";
import { AccountLimits, AccountState, monthOf } from "./account-limits.ts";
import type { AdmitRequest, LimiterPolicy } from "./limiter-protocol.ts";

const T0 = Date.parse("2026-11-27T12:00:00Z");
const POLICY: LimiterPolicy = {
  requestsPerMinute: 10,
  concurrency: 3,
  monthlySpendCapMicrousd: 1_000,
};
const EMPTY = { month: monthOf(T0), spentMicrousd: 0, open: [] };

let n = 0;
const request = (over: Partial<AdmitRequest> = {}): AdmitRequest => ({
  generationId: `gen_${(n += 1)}`,
  policy: POLICY,
  reserveMicrousd: 10,
  slot: true,
  ...over,
});

function synced(policy = POLICY) {
  const limits = new AccountLimits();
  expect(
    limits.admit(request({ policy, snapshot: EMPTY, slot: false, reserveMicrousd: 0 }), T0),
  ).toMatchObject({ outcome: "admitted" });
  return limits;
}

describe("AccountLimits", () => {
  it("asks for a snapshot first, then starts from it", () => {
    const limits = new AccountLimits();
    expect(limits.admit(request(), T0)).toEqual({ outcome: "unsynced" });
    const decision = limits.admit(
      request({
        snapshot: {
          month: monthOf(T0),
          spentMicrousd: 995,
          open: [{ generationId: "gen_old", reservedMicrousd: 5 }],
        },
      }),
      T0,
    );
    // 995 spent (the open hold included) + 10 would pass the 1000 cap.
    expect(decision).toMatchObject({ outcome: "denied", reason: "spend" });
    // The open hold occupies a slot: 3 - 1 left.
    expect(decision).toMatchObject({ concurrency: { limit: 3, remaining: 2 } });
  });

  it("lets exactly requestsPerMinute through at once, then one per 60/rpm seconds", () => {
    const limits = synced({ ...POLICY, concurrency: 100, monthlySpendCapMicrousd: null });
    // The sync used one token.
    const outcomes = Array.from({ length: 20 }, () =>
      limits.admit(
        request({
          slot: false,
          policy: { ...POLICY, concurrency: 100, monthlySpendCapMicrousd: null },
        }),
        T0,
      ),
    );
    expect(outcomes.filter((d) => d.outcome === "admitted")).toHaveLength(9);
    const denied = outcomes.find((d) => d.outcome === "denied");
    expect(denied).toMatchObject({
      reason: "rate",
      retryAfterS: 6,
      rate: { limit: 10, remaining: 0, resetS: 60 },
    });
    const policy = { ...POLICY, concurrency: 100, monthlySpendCapMicrousd: null };
    expect(limits.admit(request({ policy }), T0 + 5_999)).toMatchObject({ outcome: "denied" });
    expect(limits.admit(request({ policy }), T0 + 6_000)).toMatchObject({ outcome: "admitted" });
  });

  it("holds concurrency slots until released, and counts a refused request as a request", () => {
    const limits = synced();
    const admitted = [request(), request(), request()];
    for (const r of admitted) expect(limits.admit(r, T0)).toMatchObject({ outcome: "admitted" });
    expect(limits.admit(request(), T0)).toMatchObject({
      outcome: "denied",
      reason: "concurrency",
      concurrency: { remaining: 0 },
      rate: { remaining: 5 },
    });
    expect(
      limits.release({ generationId: admitted[0]!.generationId, chargedMicrousd: 4 }, T0),
    ).toBe(true);
    expect(limits.admit(request(), T0)).toMatchObject({ outcome: "admitted" });
  });

  it("reserves at admission and settles at release: spend = charges + open holds", () => {
    const limits = synced({ ...POLICY, requestsPerMinute: 1_000 });
    const policy = { ...POLICY, requestsPerMinute: 1_000, concurrency: 1_000 };
    const a = request({ policy, reserveMicrousd: 400 });
    const b = request({ policy, reserveMicrousd: 400 });
    expect(limits.admit(a, T0)).toMatchObject({ outcome: "admitted" });
    expect(limits.admit(b, T0)).toMatchObject({ outcome: "admitted" });
    expect(limits.state.spentMicrousd).toBe(800);
    expect(limits.admit(request({ policy, reserveMicrousd: 201 }), T0)).toMatchObject({
      outcome: "denied",
      reason: "spend",
      spend: { capMicrousd: 1_000, spentMicrousd: 800 },
    });
    limits.release({ generationId: a.generationId, chargedMicrousd: 150 }, T0);
    limits.release({ generationId: b.generationId, chargedMicrousd: 0 }, T0);
    expect(limits.state.spentMicrousd).toBe(150);
    // Repeats change nothing.
    expect(limits.release({ generationId: a.generationId, chargedMicrousd: 150 }, T0)).toBe(false);
    expect(limits.state.spentMicrousd).toBe(150);
    // A free answer is not refused by the cap.
    limits.admit(request({ policy, reserveMicrousd: 850 }), T0);
    expect(limits.admit(request({ policy, reserveMicrousd: 0, slot: false }), T0)).toMatchObject({
      outcome: "admitted",
    });
  });

  it("admits a repeated generation id once", () => {
    const limits = synced();
    const r = request();
    limits.admit(r, T0);
    expect(limits.admit(r, T0)).toMatchObject({ outcome: "admitted" });
    expect(limits.state.spentMicrousd).toBe(10);
    expect(Object.keys(limits.state.open)).toEqual([r.generationId]);
  });

  it("frees a slot whose release never came after the lease, keeping its hold", () => {
    const limits = new AccountLimits(undefined, { slotLeaseMs: 60_000 });
    limits.admit(request({ snapshot: EMPTY, slot: false, reserveMicrousd: 0 }), T0);
    for (let i = 0; i < 3; i += 1) limits.admit(request(), T0);
    expect(limits.admit(request(), T0 + 59_000)).toMatchObject({ reason: "concurrency" });
    expect(limits.admit(request(), T0 + 60_001)).toMatchObject({ outcome: "admitted" });
    expect(limits.state.spentMicrousd).toBe(40);
  });

  it("counts slots exactly over admits, releases and expiring leases (against the state)", () => {
    const policy = { requestsPerMinute: 1_000_000, concurrency: 40, monthlySpendCapMicrousd: null };
    const limits = new AccountLimits(undefined, { slotLeaseMs: 10_000 });
    limits.admit(request({ policy, snapshot: EMPTY, slot: false, reserveMicrousd: 0 }), T0);
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let now = T0;
    for (let step = 0; step < 2_000; step += 1) {
      now += Math.floor(random() * 400);
      const open = Object.keys(limits.state.open);
      if (open.length > 0 && random() < 0.4) {
        const id = open[Math.floor(random() * open.length)]!;
        limits.release({ generationId: id, chargedMicrousd: 0 }, now);
        continue;
      }
      const decision = limits.admit(request({ policy, reserveMicrousd: 0 }), now);
      if (decision.outcome === "unsynced") throw new Error("synced above");
      // The truth: holds in the state whose lease is still running, after this admit.
      const used = Object.values(limits.state.open).filter((h) => h.slotUntil > now).length;
      expect(decision.concurrency.remaining, `step ${step}`).toBe(Math.max(0, 40 - used));
      if (decision.outcome === "denied") expect(used).toBe(40);
    }
  });

  it("starts each UTC month from zero", () => {
    const limits = synced();
    limits.admit(request({ reserveMicrousd: 900 }), T0);
    expect(limits.admit(request({ reserveMicrousd: 200 }), T0)).toMatchObject({ reason: "spend" });
    const december = Date.parse("2026-12-01T00:00:00Z");
    expect(limits.admit(request({ reserveMicrousd: 200 }), december)).toMatchObject({
      outcome: "admitted",
    });
    expect(limits.state).toMatchObject({ month: "2026-12", spentMicrousd: 200 });
  });

  it("applies a release that raced the snapshot only if the snapshot still had it open", () => {
    const limits = new AccountLimits();
    limits.release({ generationId: "gen_a", chargedMicrousd: 7 }, T0);
    limits.release({ generationId: "gen_b", chargedMicrousd: 9 }, T0);
    limits.admit(
      request({
        slot: false,
        reserveMicrousd: 0,
        snapshot: {
          month: monthOf(T0),
          // gen_a read while open (hold 10); gen_b already settled in the sum (9).
          spentMicrousd: 10 + 9,
          open: [{ generationId: "gen_a", reservedMicrousd: 10 }],
        },
      }),
      T0,
    );
    expect(limits.state.spentMicrousd).toBe(7 + 9);
    expect(limits.state.open).toEqual({});
  });

  it("round-trips its state through JSON (what a Durable Object stores)", () => {
    const limits = synced();
    limits.admit(request(), T0);
    const restored = new AccountLimits(
      AccountState.parse(JSON.parse(JSON.stringify(limits.state))),
    );
    expect(restored.state).toEqual(limits.state);
    expect(restored.idle(T0)).toBe(false);
  });

  it("gives a replay's token back, once, whether it was admitted or refused", () => {
    const policy = { ...POLICY, requestsPerMinute: 3, concurrency: 1 };
    const limits = synced(policy); // the sync used one token: 2 left
    const tokens = () => Math.floor(limits.state.tokens);
    const admitted = request({ policy });
    expect(limits.admit(admitted, T0)).toMatchObject({ outcome: "admitted" });
    expect(tokens()).toBe(1);
    // The admission found an earlier generation with its Idempotency-Key: all of it comes back.
    limits.release(
      { generationId: admitted.generationId, chargedMicrousd: 0, refundToken: true },
      T0,
    );
    limits.release(
      { generationId: admitted.generationId, chargedMicrousd: 0, refundToken: true },
      T0,
    );
    expect(tokens()).toBe(2);
    expect(limits.state.open).toEqual({});

    // Refused for concurrency (a slot is taken), the token used; given back if it was a replay.
    expect(limits.admit(request({ policy }), T0)).toMatchObject({ outcome: "admitted" });
    const refused = request({ policy });
    expect(limits.admit(refused, T0)).toMatchObject({ outcome: "denied", reason: "concurrency" });
    expect(tokens()).toBe(0);
    limits.release(
      { generationId: refused.generationId, chargedMicrousd: 0, refundToken: true },
      T0,
    );
    limits.release(
      { generationId: refused.generationId, chargedMicrousd: 0, refundToken: true },
      T0,
    );
    expect(tokens()).toBe(1);
  });

  it("admits without a token a request whose refused admission already took one", () => {
    const policy = { ...POLICY, requestsPerMinute: 3, concurrency: 1 };
    const limits = synced(policy); // 2 tokens left
    expect(limits.admit(request({ policy }), T0)).toMatchObject({ outcome: "admitted" });
    const hit = request({ policy });
    expect(limits.admit(hit, T0)).toMatchObject({ outcome: "denied", reason: "concurrency" });
    // Answered from the dedup cache instead: no slot, no spend, and no second token.
    expect(
      limits.admit({ ...hit, slot: false, reserveMicrousd: 0, rateToken: false }, T0),
    ).toMatchObject({ outcome: "admitted", rate: { remaining: 0 } });
    expect(limits.state.tokens).toBeGreaterThanOrEqual(-1e-9);
  });
});
