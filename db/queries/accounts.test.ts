import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { DEFAULT_PLANS } from "../seed/plans.ts";
import { createAccount, getAccount, getPlan, seedPlans, setAccountPlan } from "./accounts.ts";

let handle: PgliteHandle;
beforeAll(async () => {
  handle = await createTestDatabase({ seed: false });
});
afterAll(async () => {
  await handle?.close();
});

describe("plans", () => {
  it("seeds the default plans once and leaves operator edits alone", async () => {
    const { db } = handle;
    expect(await seedPlans(db)).toBe(DEFAULT_PLANS.length);
    await db.$client.query("update plans set requests_per_minute = 11 where id = 'free'");
    expect(await seedPlans(db)).toBe(0);
    expect((await getPlan(db, "free"))?.requestsPerMinute).toBe(11);
    expect(await getPlan(db, "enterprise")).toMatchObject({
      monthlySpendCapMicrousd: null,
      maxCostPerRequestMicrousd: null,
      priceMultiplier: 0.8,
    });
    expect(await getPlan(db, "platinum")).toBeNull();
  });

  it("rejects a plan whose lanes are not priorities", async () => {
    await expect(
      seedPlans(handle.db, [{ ...DEFAULT_PLANS[0]!, id: "odd", lanes: ["warp" as "fast"] }]),
    ).rejects.toThrow();
  });
});

describe("accounts", () => {
  it("creates an account on a plan and reads it back", async () => {
    const account = await createAccount(handle.db, {
      name: "Ada",
      planId: "pro",
      email: "ada@example.com",
    });
    expect(account.id).toMatch(/^acct_[0-9a-z]{26}$/);
    expect(await getAccount(handle.db, account.id)).toEqual(account);
    expect(await getAccount(handle.db, "acct_unknown")).toBeNull();
  });

  it("validates input and refuses unknown plans and duplicate emails", async () => {
    await expect(createAccount(handle.db, { name: " ", planId: "free" })).rejects.toThrow();
    await expect(createAccount(handle.db, { name: "x", planId: "nope" })).rejects.toThrow();
    await createAccount(handle.db, { name: "Bo", planId: "free", email: "bo@example.com" });
    await expect(
      createAccount(handle.db, { name: "Bo2", planId: "free", email: "BO@example.com" }),
    ).rejects.toThrow();
  });

  it("moves an account to another plan", async () => {
    const account = await createAccount(handle.db, { name: "Cy", planId: "free" });
    const moved = await setAccountPlan(handle.db, account.id, "pro");
    expect(moved?.planId).toBe("pro");
    expect(moved!.updatedAt.getTime()).toBeGreaterThanOrEqual(account.updatedAt.getTime());
    expect(await setAccountPlan(handle.db, "acct_missing", "pro")).toBeNull();
  });
});
