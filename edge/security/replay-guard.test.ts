import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import {
  NONCE_HEADER,
  SIGNATURE_HEADER,
  signRequest,
  TIMESTAMP_HEADER,
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

describe("ReplayGuard", () => {
  it("accepts a signature once within its window, again once the window has passed", () => {
    let now = 0;
    const guard = new ReplayGuard({ toleranceS: 10, clock: () => now });
    expect(guard.firstSighting("a")).toBe(true);
    expect(guard.firstSighting("a")).toBe(false);
    expect(guard.firstSighting("b")).toBe(true);
    now = 19_999;
    expect(guard.firstSighting("a")).toBe(false);
    now = 20_001;
    expect(guard.firstSighting("a")).toBe(true);
    expect(guard.size).toBe(1);
  });

  it("stays bounded: past maxEntries the oldest signature is forgotten", () => {
    const guard = new ReplayGuard({ maxEntries: 3, clock: () => 0 });
    for (const s of ["a", "b", "c", "d"]) expect(guard.firstSighting(s)).toBe(true);
    expect(guard.size).toBe(3);
    expect(guard.firstSighting("d")).toBe(false);
    expect(guard.firstSighting("a")).toBe(true);
  });
});

describe("signing with a nonce", () => {
  const parts = { method: "POST", path: "/x", body: "{}" };

  it("signs identical requests in the same second differently", async () => {
    const now = 1_800_000_000_000;
    const a = await signRequest("k", parts, now);
    const b = await signRequest("k", parts, now);
    expect(a[SIGNATURE_HEADER]).not.toBe(b[SIGNATURE_HEADER]);
    expect(a[NONCE_HEADER]).toMatch(/^[0-9a-f]{32}$/);
    expect(await verifyRequest("k", parts, new Headers(a), { now })).toEqual({ ok: true });
  });

  it("binds the nonce: changed or dropped it no longer verifies; malformed is refused", async () => {
    const now = 1_800_000_000_000;
    const h = await signRequest("k", parts, now);
    const changed = new Headers({ ...h, [NONCE_HEADER]: "0".repeat(32) });
    expect(await verifyRequest("k", parts, changed, { now })).toEqual({
      ok: false,
      reason: "mismatch",
    });
    const dropped = new Headers(h);
    dropped.delete(NONCE_HEADER);
    expect(await verifyRequest("k", parts, dropped, { now })).toEqual({
      ok: false,
      reason: "mismatch",
    });
    const bad = new Headers({ ...h, [NONCE_HEADER]: "ZZ" });
    expect(await verifyRequest("k", parts, bad, { now })).toEqual({
      ok: false,
      reason: "malformed",
    });
  });

  it("still verifies a signature made without a nonce (older signers)", async () => {
    const now = 1_800_000_000_000;
    const ts = String(now / 1000);
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode("k"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${ts}.POST./x.{}`));
    const hex = Buffer.from(mac).toString("hex");
    const headers = new Headers({ [TIMESTAMP_HEADER]: ts, [SIGNATURE_HEADER]: `v1=${hex}` });
    expect(await verifyRequest("k", parts, headers, { now })).toEqual({ ok: true });
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

    const signed = await signRequest(TEST_SECRETS.regionSigning, { method: "POST", path, body });
    expect((await post(signed)).status).toBeLessThan(300);
    await expectError(await post(signed), 401, "authentication_error", "signature_replayed");

    const again = await signRequest(TEST_SECRETS.regionSigning, { method: "POST", path, body });
    expect((await post(again)).status).toBeLessThan(300);
  });
});
