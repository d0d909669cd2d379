import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DurableObjectAccountLimiter } from "../../edge/limits/durable-object-limiter.ts";
import type { AdmitRequest } from "../../edge/limits/limiter-protocol.ts";
import { bearer, createGeneration, edge, errorOf, generationOf, standIn } from "./helpers.ts";

// Plan limits on Workers: the account's counters live in its AccountLimiter Durable Object (the
// real class from the Worker's entry, behind the ACCOUNT_LIMITER binding of wrangler.toml).

const month = new Date().toISOString().slice(0, 7);
const policy = { requestsPerMinute: 1_000, concurrency: 10, monthlySpendCapMicrousd: 500 };
const admit = (generationId: string, over: Partial<AdmitRequest> = {}): AdmitRequest => ({
  generationId,
  policy,
  reserveMicrousd: 20,
  slot: true,
  // Sent every time here: the object uses the first and ignores the rest.
  snapshot: { month, spentMicrousd: 0, open: [] },
  ...over,
});

describe("AccountLimiter Durable Object", () => {
  it("admits exactly 10 of 100 concurrent admissions for an account allowed 10 at once", async () => {
    const limiter = new DurableObjectAccountLimiter(env.ACCOUNT_LIMITER);
    const account = `acct_${crypto.randomUUID()}`;
    const decisions = await Promise.all(
      Array.from({ length: 100 }, (_, i) => limiter.admit(account, admit(`gen_${i}`))),
    );
    const admitted = decisions.filter((d) => d.outcome === "admitted");
    expect(admitted).toHaveLength(10);
    expect(
      decisions.filter((d) => d.outcome === "denied" && d.reason === "concurrency"),
    ).toHaveLength(90);

    // Another account has its own object and its own counters.
    expect(await limiter.admit(`acct_${crypto.randomUUID()}`, admit("gen_x"))).toMatchObject({
      outcome: "admitted",
    });

    // A release frees one slot and settles the spend: 10 x 20 reserved, one charged 5.
    const first = decisions.findIndex((d) => d.outcome === "admitted");
    await limiter.release(account, { generationId: `gen_${first}`, chargedMicrousd: 5 });
    await limiter.release(account, { generationId: `gen_${first}`, chargedMicrousd: 5 });
    expect(await limiter.admit(account, admit("gen_next"))).toMatchObject({
      outcome: "admitted",
      concurrency: { remaining: 0 },
    });
    // 9 x 20 + 5 + 20 = 205 of 500; 300 more would pass the cap.
    expect(
      await limiter.admit(account, admit("gen_big", { reserveMicrousd: 300, slot: false })),
    ).toMatchObject({ outcome: "denied", reason: "spend", spend: { spentMicrousd: 205 } });
  });

  it("asks for the ledger's snapshot before its first admission", async () => {
    const limiter = new DurableObjectAccountLimiter(env.ACCOUNT_LIMITER);
    const account = `acct_${crypto.randomUUID()}`;
    const { snapshot: _, ...bare } = admit("gen_1");
    expect(await limiter.admit(account, bare)).toEqual({ outcome: "unsynced" });
    expect(
      await limiter.admit(account, {
        ...bare,
        snapshot: { month, spentMicrousd: 490, open: [] },
      }),
    ).toMatchObject({ outcome: "denied", reason: "spend" });
  });
});

describe("Worker entry: plan limits", () => {
  // Sequential on purpose: the local Postgres wire gateway these tests use runs every connection
  // on one PGlite session and can interleave concurrent clients' extended-protocol messages, so
  // 100 submits at once through the whole stack would test the gateway, not the limits. The
  // concurrent case is proven against the Durable Object above and on Node (edge/limits).
  it("a key allowed 10 at once gets 10 accepted, then 429 until one ends", async () => {
    const key = env.TEST_LIMITED_API_KEY;
    const before = (await standIn("us-east")).jobs.length;
    const accepted: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await createGeneration({ prompt: `limited ${i}` }, bearer(key));
      expect(res.status).toBe(202);
      expect(res.headers.get("ratelimit")).toContain(`"concurrency";r=${9 - i}`);
      accepted.push((await generationOf(res)).id);
    }
    const refused = await createGeneration({ prompt: "one too many" }, bearer(key));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("ratelimit-policy")).toContain('"concurrency";q=10');
    expect(await errorOf(refused)).toMatchObject({
      type: "rate_limit_error",
      code: "concurrency_limit_exceeded",
    });
    expect((await standIn("us-east")).jobs.length - before).toBe(10);

    // Canceling one refunds it and frees its slot, in the same Durable Object.
    const cancel = await edge(`/v1/generations/${accepted[0]}/cancel`, {
      method: "POST",
      headers: bearer(key),
    });
    expect(cancel.status).toBe(200);
    await cancel.arrayBuffer();
    const next = await createGeneration({ prompt: "room again" }, bearer(key));
    expect(next.status).toBe(202);
    await next.arrayBuffer();
  });
});
