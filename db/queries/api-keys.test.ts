import { createHash, createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account } from "../schema/accounts.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import {
  API_KEY_PATTERN,
  apiKeyPrefix,
  createApiKey,
  findApiKeyByHash,
  generateApiKey,
  hashApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
} from "./api-keys.ts";

let handle: PgliteHandle;
let account: Account;
beforeAll(async () => {
  handle = await createTestDatabase();
  account = await createAccount(handle.db, { name: "keys", planId: "pro" });
});
afterAll(async () => {
  await handle?.close();
});

describe("key material", () => {
  it("generates gk_<mode>_ + 32 base62 characters, all distinct", () => {
    const keys = Array.from({ length: 200 }, (_, i) => generateApiKey(i % 2 ? "live" : "test"));
    for (const key of keys) expect(key).toMatch(API_KEY_PATTERN);
    expect(new Set(keys).size).toBe(keys.length);
    // Every base62 character turns up: the alphabet is used whole, not a biased subset.
    const seen = new Set(keys.flatMap((k) => [...k.slice(8)]));
    expect(seen.size).toBe(62);
  });

  it("hashes as hex SHA-256, or HMAC-SHA-256 with a pepper", async () => {
    const key = "gk_live_0123456789abcdefghijABCDEFGHIJ01";
    expect(await hashApiKey(key)).toBe(createHash("sha256").update(key).digest("hex"));
    expect(await hashApiKey(key, "pepper")).toBe(
      createHmac("sha256", "pepper").update(key).digest("hex"),
    );
  });

  it("keeps only a short, displayable prefix", () => {
    expect(apiKeyPrefix("gk_live_ab12CDEFGHIJKLMNOPQRSTUVWXYZ012345")).toBe("gk_live_ab12");
    expect(apiKeyPrefix("gk_test_zz99CDEFGHIJKLMNOPQRSTUVWXYZ012345")).toBe("gk_test_zz99");
  });
});

describe("stored keys", () => {
  it("stores only the hash and finds key, account and plan by it", async () => {
    const { key, record } = await createApiKey(handle.db, {
      accountId: account.id,
      mode: "live",
      name: "ci",
    });
    expect(record).toMatchObject({ prefix: key.slice(0, 12), scopes: ["*"], revokedAt: null });
    expect(JSON.stringify(record)).not.toContain(key.slice(12));
    const found = await findApiKeyByHash(handle.db, await hashApiKey(key));
    expect(found?.apiKey.id).toBe(record.id);
    expect(found?.account.id).toBe(account.id);
    expect(found?.plan.id).toBe("pro");
    expect(await findApiKeyByHash(handle.db, await hashApiKey(`${key}x`))).toBeNull();
  });

  it("uses the pepper consistently between creation and lookup", async () => {
    const { key } = await createApiKey(handle.db, { accountId: account.id, mode: "test" }, "s3");
    expect(await findApiKeyByHash(handle.db, await hashApiKey(key, "s3"))).not.toBeNull();
    expect(await findApiKeyByHash(handle.db, await hashApiKey(key))).toBeNull();
  });

  it("revokes idempotently, only for the owning account, and still finds revoked keys", async () => {
    const { key, record } = await createApiKey(handle.db, {
      accountId: account.id,
      mode: "live",
      scopes: ["generations:read"],
    });
    const other = await createAccount(handle.db, { name: "other", planId: "free" });
    expect(await revokeApiKey(handle.db, other.id, record.id)).toBeNull();

    const first = await revokeApiKey(handle.db, account.id, record.id, new Date("2026-01-01Z"));
    const again = await revokeApiKey(handle.db, account.id, record.id, new Date("2026-02-01Z"));
    expect(first?.revokedAt).toEqual(new Date("2026-01-01Z"));
    expect(again?.revokedAt).toEqual(new Date("2026-01-01Z"));
    const found = await findApiKeyByHash(handle.db, await hashApiKey(key));
    expect(found?.apiKey.revokedAt).toEqual(new Date("2026-01-01Z"));
  });

  it("records use at most once per interval", async () => {
    const { record } = await createApiKey(handle.db, { accountId: account.id, mode: "live" });
    const t0 = new Date("2026-03-01T00:00:00Z");
    expect(await touchApiKey(handle.db, record.id, { at: t0 })).toBe(true);
    expect(await touchApiKey(handle.db, record.id, { at: new Date(t0.getTime() + 30_000) })).toBe(
      false,
    );
    expect(await touchApiKey(handle.db, record.id, { at: new Date(t0.getTime() + 61_000) })).toBe(
      true,
    );
    const [listed] = (await listApiKeys(handle.db, account.id)).filter((k) => k.id === record.id);
    expect(listed?.lastUsedAt).toEqual(new Date(t0.getTime() + 61_000));
  });

  it("rejects unknown accounts and malformed input", async () => {
    await expect(createApiKey(handle.db, { accountId: "acct_x", mode: "live" })).rejects.toThrow();
    await expect(
      createApiKey(handle.db, { accountId: account.id, mode: "prod" as "live" }),
    ).rejects.toThrow();
  });
});
