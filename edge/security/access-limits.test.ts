import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeApiKey } from "../../db/queries/api-keys.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { ROOMY_TEST_PLAN, seedAccount } from "../testing/seed.ts";

// The limits of read paths (edge/README.md, Security): reads, event streams and `Prefer: wait`
// per account; failed authentications per client; the unknown-key cache kept apart.

let f: EdgeFixture;
let region: RegionStandIn;

beforeAll(async () => {
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({
    regions: [region.config],
    // In tests the client's address comes from a header (the entries take it from the runtime).
    clientAddress: (c) => c.req.header("x-test-client"),
    tuning: {
      readsPerMinute: 8,
      maxEventStreams: 1,
      maxWaitingRequests: 1,
      failedAuthPerMinute: 3,
      authCacheMaxEntries: 50,
      authUnknownCacheMaxEntries: 50,
    },
  });
});
afterAll(async () => {
  await f.close();
  await region.close();
});

const account = () => seedAccount(f.db, { plan: ROOMY_TEST_PLAN.id });

describe("read paths", () => {
  it("limit reads per account: 429 with Retry-After past the bucket, others unaffected", async () => {
    const a = await account();
    for (let i = 0; i < 8; i++) {
      expect((await f.call("/v1/generations", { key: a.key })).status).toBe(200);
    }
    const refused = await f.call("/v1/generations", { key: a.key });
    await expectError(refused, 429, "rate_limit_error", "read_rate_limit_exceeded");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const b = await account();
    expect((await f.call("/v1/generations", { key: b.key })).status).toBe(200);
  });

  it("limit open event streams per account, and free the slot when a stream ends", async () => {
    const a = await account();
    region.mode = { kind: "accept" };
    const gen = await (
      await f.call("/v1/generations", { method: "POST", key: a.key, json: { prompt: "p" } })
    ).json();
    const first = await f.call(`/v1/generations/${gen.id}/events`, { key: a.key });
    expect(first.status).toBe(200);
    await expectError(
      await f.call(`/v1/generations/${gen.id}/events`, { key: a.key }),
      429,
      "rate_limit_error",
      "too_many_event_streams",
    );
    await first.body!.cancel();
    await expect
      .poll(async () => {
        const again = await f.call(`/v1/generations/${gen.id}/events`, { key: a.key });
        if (again.status === 200) await again.body!.cancel();
        return again.status;
      })
      .toBe(200);
  });

  it("hold at most maxWaitingRequests `Prefer: wait` per account; past it the answer comes at once", async () => {
    const a = await account();
    region.mode = { kind: "accept" };
    const submit = () =>
      f.call("/v1/generations", {
        method: "POST",
        key: a.key,
        json: { prompt: "waiting" },
        headers: { prefer: "wait=2" },
      });
    const started = Date.now();
    const [held, immediate] = await Promise.all([
      submit(),
      new Promise((r) => setTimeout(r, 200)).then(submit),
    ]);
    expect(held.status).toBe(202);
    expect(held.headers.get("preference-applied")).toBe("wait=2");
    expect(immediate.status).toBe(202);
    expect(immediate.headers.get("preference-applied")).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });
});

describe("authentication", () => {
  it("refuses a client after its failed attempts, before any lookup; a known key still passes", async () => {
    const known = await account();
    const from = (client: string, key: string) =>
      f.call("/v1/generations", { key, headers: { "x-test-client": client } });
    // Known before the attempts: looked up and cached in this isolate.
    expect((await from("198.51.100.7", known.key)).status).toBe(200);
    const guess = (i: number) => `gk_test_${String(i).padStart(32, "0")}`;
    for (let i = 0; i < 3; i++) {
      await expectError(await from("198.51.100.7", guess(i)), 401, "authentication_error");
    }
    const refused = await from("198.51.100.7", guess(99));
    await expectError(refused, 429, "rate_limit_error", "too_many_failed_authentications");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await from("198.51.100.7", known.key)).status).toBe(200);
    // Another client is not affected; one IPv6 /64 counts as one client.
    await expectError(await from("198.51.100.8", guess(5)), 401, "authentication_error");
    for (let i = 0; i < 3; i++) {
      await from(`2001:db8:1:2::${i + 1}`, guess(i));
    }
    await expectError(
      await from("2001:db8:1:2::ffff", guess(7)),
      429,
      "rate_limit_error",
      "too_many_failed_authentications",
    );
  });

  it("keeps unknown keys apart: a flood of them never evicts a valid key from the cache", async () => {
    const valid = await account();
    expect((await f.call("/v1/generations", { key: valid.key })).status).toBe(200);
    for (let i = 0; i < 200; i++) {
      await f.call("/v1/generations", { key: `gk_test_${String(i).padStart(32, "f")}` });
    }
    // Revoked in the database behind the cache's back: still served from the cache, so it was
    // not evicted (a shared bound of 50 would have pushed it out and this would be a 401).
    await revokeApiKey(f.db, valid.account.id, valid.apiKey.id);
    expect((await f.call("/v1/generations", { key: valid.key })).status).toBe(200);
  });
});
