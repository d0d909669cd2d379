import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyList, CreatedApiKey } from "../../contracts/keys.ts";
import { createApp } from "../app.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { seedAccount } from "../testing/seed.ts";

let f: EdgeFixture;
beforeAll(async () => {
  f = await createEdgeFixture({ regions: [] });
});
afterAll(() => f.close());

const createKey = (json: unknown, key?: string) =>
  f.call("/v1/keys", { method: "POST", json, key });

describe("/v1/keys", () => {
  it("creates a key shown once, lists it by prefix, and revokes it (401 afterwards)", async () => {
    const res = await createKey({ name: "dashboard", scopes: ["usage:read"] });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const made = CreatedApiKey.parse(await res.json());
    expect(made).toMatchObject({ mode: "live", name: "dashboard", scopes: ["usage:read"] });
    expect(made.key).toMatch(/^gk_live_[0-9A-Za-z]{32}$/);
    expect(made.key.startsWith(made.prefix)).toBe(true);

    const list = ApiKeyList.parse(await (await f.call("/v1/keys")).json());
    const listed = list.data.find((k) => k.id === made.id)!;
    expect(listed.prefix).toBe(made.prefix);
    expect(JSON.stringify(list)).not.toContain(made.key);
    // The owner's seeded key holds every scope.
    expect(list.data.find((k) => k.id === f.owner.apiKey.id)!.scopes).toHaveLength(5);

    // The new key works within its scope only.
    expect((await f.call("/v1/usage", { key: made.key })).status).toBe(200);
    await expectError(
      await f.call("/v1/generations", { key: made.key }),
      403,
      "permission_error",
      "missing_scope",
    );

    const revoked = await f.call(`/v1/keys/${made.id}`, { method: "DELETE" });
    expect((await revoked.json()).revoked_at).not.toBeNull();
    // This isolate revoked it: refused at once here.
    await expectError(
      await f.call("/v1/usage", { key: made.key }),
      401,
      "authentication_error",
      "revoked_api_key",
    );
    // Past the lookup cache's 30 s (a fresh isolate) it is refused.
    const other = createApp({
      db: f.db,
      assets: f.assets,
      regions: [],
      environment: "development",
      publicUrl: "http://localhost",
      secrets: TEST_SECRETS,
      log: () => {},
    });
    const res2 = await other.request("/v1/usage", {
      headers: { authorization: `Bearer ${made.key}` },
    });
    await expectError(res2, 401, "authentication_error", "revoked_api_key");
  });

  it("never mints wider scopes than the calling key holds, nor live keys from test keys", async () => {
    const narrow = CreatedApiKey.parse(
      await (await createKey({ scopes: ["keys:admin", "usage:read"] })).json(),
    );
    const wider = await expectError(
      await createKey({ scopes: ["generations:write"] }, narrow.key),
      403,
      "permission_error",
      "scope_not_held",
    );
    expect(wider.message).toContain("generations:write");
    // Without scopes a new key gets the caller's own.
    const same = CreatedApiKey.parse(await (await createKey({}, narrow.key)).json());
    expect(same.scopes.sort()).toEqual(["keys:admin", "usage:read"]);

    const test = CreatedApiKey.parse(await (await createKey({ mode: "test" })).json());
    expect(test.key).toMatch(/^gk_test_/);
    await expectError(
      await createKey({ mode: "live" }, test.key),
      403,
      "permission_error",
      "live_key_from_test_key",
    );
    expect((await createKey({}, test.key)).status).toBe(201);
  });

  it("validates the body", async () => {
    await expectError(await createKey({ scopes: ["everything"] }), 400, "invalid_request_error");
    await expectError(await createKey({ colour: "red" }), 400, "invalid_request_error");
  });

  it("keeps accounts apart: another account's key is 404 to revoke and absent from the list", async () => {
    const stranger = await seedAccount(f.db);
    await expectError(
      await f.call(`/v1/keys/${f.owner.apiKey.id}`, { method: "DELETE", key: stranger.key }),
      404,
      "not_found_error",
      "key_not_found",
    );
    const list = ApiKeyList.parse(await (await f.call("/v1/keys", { key: stranger.key })).json());
    expect(list.data.map((k) => k.id)).toEqual([stranger.apiKey.id]);
    expect((await f.call("/v1/usage")).status).toBe(200);
  });
});
