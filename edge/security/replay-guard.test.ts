import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import {
  NONCE_HEADER,
  SIGNATURE_HEADER,
  signRequest,
  verifyRequest,
} from "../../contracts/signing.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { idleHeartbeat } from "../testing/heartbeats.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { ReplayGuard } from "../../contracts/replay-guard.ts";
import { testRegionKey } from "../testing/region-keys.ts";

describe("ReplayGuard", () => {
  const T0 = 1_800_000_000_000;

  it("refuses a signature again until it could no longer verify (signedAt + tolerance)", async () => {
    let now = T0;
    const guard = new ReplayGuard({ toleranceS: 10, clock: () => now });
    expect(await guard.firstSighting("eu-west", "a", T0)).toBe(true);
    expect(await guard.firstSighting("eu-west", "a", T0)).toBe(false);
    expect(await guard.firstSighting("eu-west", "b", T0)).toBe(true);
    // Scopes are apart: the same MAC from another region's key is another signature.
    expect(await guard.firstSighting("us-east", "a", T0)).toBe(true);
    now = T0 + 10_999;
    expect(await guard.firstSighting("eu-west", "a", T0)).toBe(false);
    now = T0 + 12_000;
    expect(await guard.firstSighting("eu-west", "a", T0)).toBe(true);
    expect(guard.size).toBe(1);
  });

  it("keeps a signature signed in the past only for what is left of its window", async () => {
    let now = T0;
    const guard = new ReplayGuard({ toleranceS: 10, clock: () => now });
    expect(await guard.firstSighting("eu-west", "old", T0 - 9_000)).toBe(true);
    now = T0 + 3_100;
    // Stale by now for the verifier, and forgotten here.
    expect(guard.firstSightingNow("eu-west", "fresh", now)).toBe(true);
    expect(guard.size).toBe(1);
  });

  it("never forgets a signature inside its window, however many arrive (the old bound was 50k)", async () => {
    const guard = new ReplayGuard({ clock: () => T0 });
    expect(guard.firstSightingNow("eu-west", "first", T0)).toBe(true);
    for (let i = 0; i < 120_000; i++) guard.firstSightingNow("eu-west", `m${i}`, T0);
    expect(guard.firstSightingNow("eu-west", "first", T0)).toBe(false);
    expect(guard.size).toBe(120_001);
  });
});

describe("signing with a nonce", () => {
  const parts = { method: "POST", path: "/x", body: "{}" };
  const k = { id: "k1", secret: "k" };
  const keys = (id: string) => (id === "k1" ? "k" : null);

  it("signs identical requests in the same second differently", async () => {
    const now = 1_800_000_000_000;
    const a = await signRequest(k, parts, now);
    const b = await signRequest(k, parts, now);
    expect(a[SIGNATURE_HEADER]).not.toBe(b[SIGNATURE_HEADER]);
    expect(a[NONCE_HEADER]).toMatch(/^[0-9a-f]{32}$/);
    expect(await verifyRequest(keys, parts, new Headers(a), { now })).toMatchObject({ ok: true });
  });

  it("binds the nonce: changed or dropped it no longer verifies; malformed is refused", async () => {
    const now = 1_800_000_000_000;
    const h = await signRequest(k, parts, now);
    const changed = new Headers({ ...h, [NONCE_HEADER]: "0".repeat(32) });
    expect(await verifyRequest(keys, parts, changed, { now })).toEqual({
      ok: false,
      reason: "mismatch",
    });
    const dropped = new Headers(h);
    dropped.delete(NONCE_HEADER);
    expect(await verifyRequest(keys, parts, dropped, { now })).toEqual({
      ok: false,
      reason: "mismatch",
    });
    const bad = new Headers({ ...h, [NONCE_HEADER]: "ZZ" });
    expect(await verifyRequest(keys, parts, bad, { now })).toEqual({
      ok: false,
      reason: "malformed",
    });
  });
});

describe("internal endpoints", () => {
  let f: EdgeFixture;
  let eu: RegionStandIn;
  beforeAll(async () => {
    eu = await startRegionStandIn({
      name: "eu-west",
      lat: 53.35,
      lon: -6.26,
      secret: TEST_SECRETS.regionSigning,
    });
    f = await createEdgeFixture({ regions: [eu.config] });
  });
  afterAll(async () => {
    await f?.close();
    await eu?.close();
  });

  it("refuse an unsigned call and a replayed one; a freshly signed repeat is accepted", async () => {
    const path = REGION_PATHS.heartbeat("eu-west");
    const body = JSON.stringify(idleHeartbeat("eu-west", []));
    const post = (headers: Record<string, string>) =>
      f.call(path, {
        method: "POST",
        key: null,
        body,
        headers: { ...headers, "content-type": "application/json" },
      });
    await expectError(await post({}), 401, "authentication_error", "signature_missing");

    const key = testRegionKey(TEST_SECRETS.regionSigning, "eu-west");
    const signed = await signRequest(key, { method: "POST", path, body });
    expect((await post(signed)).status).toBeLessThan(300);
    await expectError(await post(signed), 401, "authentication_error", "signature_replayed");

    const again = await signRequest(key, { method: "POST", path, body });
    expect((await post(again)).status).toBeLessThan(300);
  });
});
