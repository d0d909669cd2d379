import { describe, expect, it } from "vitest";
import { signedAssetPath, verifyAssetSignature } from "./asset-url.ts";

const SECRET = "asset-secret-0123456789";
const KEY = `${"ab".repeat(32)}.png`;
const now = Date.parse("2026-11-27T12:34:56Z");

function parts(path: string) {
  const url = new URL(path, "http://edge.test");
  return {
    key: url.pathname.replace("/v1/assets/", ""),
    exp: url.searchParams.get("exp")!,
    sig: url.searchParams.get("sig")!,
  };
}

describe("signed asset URLs", () => {
  it("sign the key and an expiry about 7 days out, stable within the hour", async () => {
    const path = await signedAssetPath(KEY, SECRET, now);
    const { key, exp, sig } = parts(path);
    expect(key).toBe(KEY);
    expect(Number(exp) * 1000 - now).toBeGreaterThanOrEqual(7 * 86_400_000);
    expect(Number(exp) * 1000 - now).toBeLessThan(7 * 86_400_000 + 3_600_000);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(await signedAssetPath(KEY, SECRET, now + 60_000)).toBe(path);
    expect(await verifyAssetSignature(KEY, exp, sig, SECRET, now)).toBe("valid");
  });

  it("refuse tampering: another key, another expiry, another secret, a changed signature", async () => {
    const { exp, sig } = parts(await signedAssetPath(KEY, SECRET, now));
    const other = `${"cd".repeat(32)}.png`;
    expect(await verifyAssetSignature(other, exp, sig, SECRET, now)).toBe("invalid");
    expect(await verifyAssetSignature(KEY, String(Number(exp) + 3600), sig, SECRET, now)).toBe(
      "invalid",
    );
    expect(await verifyAssetSignature(KEY, exp, sig, "another-secret-012345", now)).toBe("invalid");
    const flipped = (sig[0] === "0" ? "1" : "0") + sig.slice(1);
    expect(await verifyAssetSignature(KEY, exp, flipped, SECRET, now)).toBe("invalid");
    expect(await verifyAssetSignature(KEY, "soon", sig, SECRET, now)).toBe("invalid");
    expect(await verifyAssetSignature(KEY, exp, "", SECRET, now)).toBe("invalid");
  });

  it("expire at exp", async () => {
    const { exp, sig } = parts(await signedAssetPath(KEY, SECRET, now, 60));
    expect(await verifyAssetSignature(KEY, exp, sig, SECRET, Number(exp) * 1000 - 1)).toBe("valid");
    expect(await verifyAssetSignature(KEY, exp, sig, SECRET, Number(exp) * 1000)).toBe("expired");
  });

  it("answer the same from the verified-signature cache: valid until exp, nothing else", async () => {
    const { exp, sig } = parts(await signedAssetPath(KEY, SECRET, now, 60));
    for (let i = 0; i < 3; i++) {
      expect(await verifyAssetSignature(KEY, exp, sig, SECRET, now)).toBe("valid");
    }
    expect(await verifyAssetSignature(KEY, exp, sig, SECRET, Number(exp) * 1000)).toBe("expired");
    expect(await verifyAssetSignature(KEY, exp, sig, "another-secret-012345", now)).toBe("invalid");
    expect(await verifyAssetSignature(`${"cd".repeat(32)}.png`, exp, sig, SECRET, now)).toBe(
      "invalid",
    );
    expect(await verifyAssetSignature(KEY, exp, sig.toUpperCase(), SECRET, now)).toBe("invalid");
  });
});
