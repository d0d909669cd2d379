import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findApiKeyByHash, hashApiKey, revokeApiKey } from "../../../db/queries/api-keys.ts";
import { createTestDatabase, type PgliteHandle } from "../../../db/testing.ts";
import type { AppEnv } from "../../app-env.ts";
import { errorHandler } from "../../errors/index.ts";
import { expectError } from "../../testing/edge-fixture.ts";
import { seedAccount } from "../../testing/seed.ts";
import { requestId } from "../request-id/index.ts";
import { ApiKeyAuthenticator, auth, optionalAuth } from "./index.ts";

let handle: PgliteHandle;
let now = Date.parse("2026-11-27T12:00:00Z");
const clock = () => now;

beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(() => handle.close());

function mount(authenticator: ApiKeyAuthenticator) {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.get("/private", auth({ authenticator }), (c) => c.json({ account: c.var.caller.account.id }));
  app.get("/maybe", optionalAuth({ authenticator }), (c) =>
    c.json({ account: c.var.caller?.account.id ?? null }),
  );
  app.onError(errorHandler(() => {}));
  return app;
}
const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

describe("auth", () => {
  it("lets a valid key through with its account and plan", async () => {
    const { account, key } = await seedAccount(handle.db);
    const authenticator = new ApiKeyAuthenticator({ db: handle.db, clock });
    const res = await mount(authenticator).request("/private", bearer(key));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ account: account.id });
    expect((await authenticator.authenticate(`Bearer ${key}`)).plan.id).toBe("pro");
  });

  it.each([
    [undefined, "missing_api_key"],
    ["", "missing_api_key"],
    ["Basic dXNlcjpwYXNz", "malformed_api_key"],
    ["Bearer sk_live_abc", "malformed_api_key"],
    ["Bearer gk_live_short", "malformed_api_key"],
    [`Bearer gk_prod_${"a".repeat(32)}`, "malformed_api_key"],
    [`Bearer gk_live_${"a".repeat(32)}`, "invalid_api_key"],
  ])("answers 401 for Authorization %j with code %s", async (header, code) => {
    const app = mount(new ApiKeyAuthenticator({ db: handle.db, clock }));
    const res = await app.request(
      "/private",
      header === undefined ? {} : { headers: { authorization: header } },
    );
    const error = await expectError(res, 401, "authentication_error", code);
    expect(error.message).not.toContain("a".repeat(32));
  });

  it("refuses a revoked key, after at most the cache TTL", async () => {
    const { account, key, apiKey } = await seedAccount(handle.db);
    const app = mount(new ApiKeyAuthenticator({ db: handle.db, clock, cacheTtlMs: 30_000 }));
    expect((await app.request("/private", bearer(key))).status).toBe(200);

    await revokeApiKey(handle.db, account.id, apiKey.id, new Date(now));
    // Within the TTL the cached lookup still answers: the documented window.
    now += 29_000;
    expect((await app.request("/private", bearer(key))).status).toBe(200);
    now += 2_000;
    await expectError(
      await app.request("/private", bearer(key)),
      401,
      "authentication_error",
      "revoked_api_key",
    );
  });

  it("reads a key in use again behind the request past half the TTL: no request waits", async () => {
    const { account, key, apiKey } = await seedAccount(handle.db);
    const work: Promise<unknown>[] = [];
    const authenticator = new ApiKeyAuthenticator({
      db: handle.db,
      clock,
      cacheTtlMs: 30_000,
      waitUntil: (p) => work.push(p),
    });
    await authenticator.authenticate(`Bearer ${key}`);
    await Promise.all(work.splice(0));
    await revokeApiKey(handle.db, account.id, apiKey.id, new Date(now));
    now += 14_000;
    await authenticator.authenticate(`Bearer ${key}`);
    expect(work).toHaveLength(0);
    // Past half its life: answered from the copy, one read started behind it.
    now += 1_000;
    await authenticator.authenticate(`Bearer ${key}`);
    expect(work).toHaveLength(1);
    await Promise.all(work.splice(0));
    // That read saw the revocation (elsewhere): refused well inside the TTL.
    await expect(authenticator.authenticate(`Bearer ${key}`)).rejects.toMatchObject({
      code: "revoked_api_key",
    });
  });

  it("forget (a revocation in this isolate): refused at once, a read under way included", async () => {
    const { account, key, apiKey } = await seedAccount(handle.db);
    const authenticator = new ApiKeyAuthenticator({ db: handle.db, clock });
    await authenticator.authenticate(`Bearer ${key}`);
    await revokeApiKey(handle.db, account.id, apiKey.id, new Date(now - 1));
    authenticator.forget(apiKey.id);
    await expect(authenticator.authenticate(`Bearer ${key}`)).rejects.toMatchObject({
      code: "revoked_api_key",
    });

    // A lookup begun before the revocation answers its caller but is not remembered after it.
    const other = await seedAccount(handle.db);
    const fresh = new ApiKeyAuthenticator({ db: handle.db, clock });
    const before = fresh.authenticate(`Bearer ${other.key}`);
    await revokeApiKey(handle.db, other.account.id, other.apiKey.id, new Date(now - 1));
    fresh.forget(other.apiKey.id);
    await before.catch(() => {});
    await expect(fresh.authenticate(`Bearer ${other.key}`)).rejects.toMatchObject({
      code: "revoked_api_key",
    });
  });

  it("refuses a key revoked before its first use at once", async () => {
    const { account, key, apiKey } = await seedAccount(handle.db);
    await revokeApiKey(handle.db, account.id, apiKey.id, new Date(now - 1000));
    const app = mount(new ApiKeyAuthenticator({ db: handle.db, clock }));
    await expectError(
      await app.request("/private", bearer(key)),
      401,
      "authentication_error",
      "revoked_api_key",
    );
  });

  it("hashes with the pepper: a key made with one pepper is unknown under another", async () => {
    const { key } = await seedAccount(handle.db, { pepper: "pepper-one" });
    const right = mount(new ApiKeyAuthenticator({ db: handle.db, clock, pepper: "pepper-one" }));
    const wrong = mount(new ApiKeyAuthenticator({ db: handle.db, clock, pepper: "pepper-two" }));
    expect((await right.request("/private", bearer(key))).status).toBe(200);
    await expectError(
      await wrong.request("/private", bearer(key)),
      401,
      "authentication_error",
      "invalid_api_key",
    );
  });

  it("bounds the cache: the oldest lookups are dropped", async () => {
    const authenticator = new ApiKeyAuthenticator({ db: handle.db, clock, cacheMaxEntries: 2 });
    const keys = await Promise.all([1, 2, 3].map(() => seedAccount(handle.db)));
    for (const { key } of keys) await authenticator.authenticate(`Bearer ${key}`);
    // The first key's entry was evicted: revoking it now is seen at once.
    await revokeApiKey(handle.db, keys[0]!.account.id, keys[0]!.apiKey.id, new Date(now - 1));
    await expect(authenticator.authenticate(`Bearer ${keys[0]!.key}`)).rejects.toMatchObject({
      code: "revoked_api_key",
    });
  });

  it("records last use in the background", async () => {
    const { key, apiKey } = await seedAccount(handle.db);
    const work: Promise<unknown>[] = [];
    const authenticator = new ApiKeyAuthenticator({
      db: handle.db,
      clock,
      waitUntil: (p) => work.push(p),
    });
    await authenticator.authenticate(`Bearer ${key}`);
    await Promise.all(work);
    const found = await findApiKeyByHash(handle.db, await hashApiKey(key));
    expect(found?.apiKey.id).toBe(apiKey.id);
    expect(found?.apiKey.lastUsedAt?.getTime()).toBe(now);
  });

  it("optionalAuth: anonymous without a header, 401 for a bad one", async () => {
    const app = mount(new ApiKeyAuthenticator({ db: handle.db, clock }));
    expect(await (await app.request("/maybe")).json()).toEqual({ account: null });
    await expectError(
      await app.request("/maybe", bearer("nope")),
      401,
      "authentication_error",
      "malformed_api_key",
    );
  });
});
