import { describe, expect, it } from "vitest";
import { chooseRange, etagMatches } from "./byte-range.ts";

describe("chooseRange", () => {
  it.each([
    [undefined, { kind: "full" }],
    ["bytes=0-9", { kind: "partial", offset: 0, length: 10 }],
    ["bytes=90-", { kind: "partial", offset: 90, length: 10 }],
    ["bytes=-10", { kind: "partial", offset: 90, length: 10 }],
    ["bytes=-1000", { kind: "partial", offset: 0, length: 100 }],
    ["bytes=95-200", { kind: "partial", offset: 95, length: 5 }],
    ["bytes=100-", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
    ["bytes=10-5", { kind: "full" }],
    ["bytes=0-1,5-6", { kind: "full" }],
    ["items=0-1", { kind: "full" }],
    ["bytes=abc", { kind: "full" }],
  ])("%j of 100 bytes -> %j", (header, expected) => {
    expect(chooseRange(header, 100)).toEqual(expected);
  });

  it("nothing of an empty object can be ranged", () => {
    expect(chooseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
  });
});

describe("etagMatches", () => {
  it("compares weakly, in lists, and with *", () => {
    expect(etagMatches('"abc"', '"abc"')).toBe(true);
    expect(etagMatches('W/"abc"', '"abc"')).toBe(true);
    expect(etagMatches('"x", "abc"', '"abc"')).toBe(true);
    expect(etagMatches("*", '"abc"')).toBe(true);
    expect(etagMatches('"abd"', '"abc"')).toBe(false);
    expect(etagMatches(null, '"abc"')).toBe(false);
  });
});
