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
});
