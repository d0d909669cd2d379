import { describe, expect, it } from "vitest";
import { hasPrefix, newId } from "./ids.ts";

describe("ids", () => {
  it("are prefixed, well-formed and unique", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId("generation")));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(hasPrefix(id, "generation")).toBe(true);
    expect(hasPrefix(newId("account"), "generation")).toBe(false);
  });

  it("sort by creation time", () => {
    const a = newId("generation", 1_700_000_000_000);
    const b = newId("generation", 1_700_000_000_001);
    expect(a < b).toBe(true);
  });
  it("encode the timestamp as 10 Crockford base32 characters, like ULID", () => {
    // Reference: the 48-bit value in base32, most significant first.
    const reference = (n: bigint) => {
      let out = "";
      for (let i = 0; i < 10; i++, n >>= 5n)
        out = "0123456789abcdefghjkmnpqrstvwxyz"[Number(n & 31n)] + out;
      return out;
    };
    for (const t of [0, 1, 31, 32, 1_700_000_000_000, 2 ** 48 - 1]) {
      expect(newId("request", t).slice(4, 14)).toBe(reference(BigInt(t)));
    }
  });
});
