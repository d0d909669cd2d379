import { describe, expect, it } from "vitest";
import {
  signRequest,
  verifyRequest,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  type KeyLookup,
} from "./signing.ts";

const key = { id: "eu-west.k1", secret: "test-secret" };
const keys: KeyLookup = (id) => (id === key.id ? key.secret : null);
const parts = { method: "POST", path: "/v1/jobs", body: '{"a":1}' };
const asHeaders = (h: Record<string, string>) => new Headers(h);

describe("request signing", () => {
  it("accepts its own signature, naming the key and the signed time", async () => {
    const h = await signRequest(key, parts, 1_000_000_000_500);
    expect(h[SIGNATURE_HEADER]).toMatch(/^keyid=eu-west\.k1,v1=[0-9a-f]{64}$/);
    expect(await verifyRequest(keys, parts, asHeaders(h), { now: 1_000_000_000_000 })).toEqual({
      ok: true,
      keyId: "eu-west.k1",
      signedAt: 1_000_000_000_000,
      mac: h[SIGNATURE_HEADER]!.slice(-64),
    });
  });

  it("refuses unsigned, tampered, wrong-secret, unknown-key and stale requests", async () => {
    const now = 1_000_000_000_000;
    const h = await signRequest(key, parts, now);
    expect(await verifyRequest(keys, parts, asHeaders({}), { now })).toMatchObject({
      reason: "missing",
    });
    const tampered = { ...parts, body: '{"a":2}' };
    expect(await verifyRequest(keys, tampered, asHeaders(h), { now })).toMatchObject({
      reason: "mismatch",
    });
    expect(await verifyRequest(() => "other", parts, asHeaders(h), { now })).toMatchObject({
      reason: "mismatch",
    });
    expect(await verifyRequest(() => null, parts, asHeaders(h), { now })).toMatchObject({
      reason: "unknown_key",
    });
    expect(
      await verifyRequest(keys, { ...parts, path: "/v1/other" }, asHeaders(h), { now }),
    ).toMatchObject({ reason: "mismatch" });
    expect(await verifyRequest(keys, parts, asHeaders(h), { now: now + 301_000 })).toMatchObject({
      reason: "stale",
    });
  });

  it("refuses malformed headers, and signatures without a key id", async () => {
    const bad = { [TIMESTAMP_HEADER]: "abc", [SIGNATURE_HEADER]: "v1=zz" };
    expect(await verifyRequest(keys, parts, asHeaders(bad))).toMatchObject({
      reason: "malformed",
    });
    const now = 1_000_000_000_000;
    const h = await signRequest(key, parts, now);
    const noKeyId = { ...h, [SIGNATURE_HEADER]: h[SIGNATURE_HEADER]!.replace(/^keyid=[^,]+,/, "") };
    expect(await verifyRequest(keys, parts, asHeaders(noKeyId), { now })).toMatchObject({
      reason: "malformed",
    });
  });
});
