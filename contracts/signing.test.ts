import { describe, expect, it } from "vitest";
import { signRequest, verifyRequest, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./signing.ts";

const secret = "test-secret";
const parts = { method: "POST", path: "/v1/jobs", body: '{"a":1}' };
const asHeaders = (h: Record<string, string>) => new Headers(h);

describe("request signing", () => {
  it("accepts its own signature", async () => {
    const h = await signRequest(secret, parts, 1_000_000_000_000);
    expect(await verifyRequest(secret, parts, asHeaders(h), { now: 1_000_000_000_000 })).toEqual({
      ok: true,
    });
  });

  it("refuses unsigned, tampered, wrong-secret and stale requests", async () => {
    const now = 1_000_000_000_000;
    const h = await signRequest(secret, parts, now);
    expect(await verifyRequest(secret, parts, asHeaders({}), { now })).toMatchObject({
      reason: "missing",
    });
    const tampered = { ...parts, body: '{"a":2}' };
    expect(await verifyRequest(secret, tampered, asHeaders(h), { now })).toMatchObject({
      reason: "mismatch",
    });
    expect(await verifyRequest("other", parts, asHeaders(h), { now })).toMatchObject({
      reason: "mismatch",
    });
    expect(
      await verifyRequest(secret, { ...parts, path: "/v1/other" }, asHeaders(h), { now }),
    ).toMatchObject({ reason: "mismatch" });
    expect(await verifyRequest(secret, parts, asHeaders(h), { now: now + 301_000 })).toMatchObject({
      reason: "stale",
    });
  });

  it("refuses malformed headers", async () => {
    const bad = { [TIMESTAMP_HEADER]: "abc", [SIGNATURE_HEADER]: "v1=zz" };
    expect(await verifyRequest(secret, parts, asHeaders(bad))).toMatchObject({
      reason: "malformed",
    });
  });
});
