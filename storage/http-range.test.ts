import { describe, expect, it } from "vitest";
import { chooseRange, contentRange, etagMatches } from "./http-range.ts";

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

describe("chooseRange (single-range forms)", () => {
  it("reads the three single-range forms", () => {
    expect(chooseRange("bytes=0-3", 10)).toEqual({ kind: "partial", offset: 0, length: 4 });
    expect(chooseRange("bytes=4-", 10)).toEqual({ kind: "partial", offset: 4, length: 6 });
    expect(chooseRange("bytes=-3", 10)).toEqual({ kind: "partial", offset: 7, length: 3 });
  });

  it("clamps ranges that run past the end", () => {
    expect(chooseRange("bytes=8-100", 10)).toEqual({ kind: "partial", offset: 8, length: 2 });
    expect(chooseRange("bytes=-100", 10)).toEqual({ kind: "partial", offset: 0, length: 10 });
  });

  it("refuses ranges that start past the end", () => {
    expect(chooseRange("bytes=10-", 10)).toEqual({ kind: "unsatisfiable" });
    expect(chooseRange("bytes=-0", 10)).toEqual({ kind: "unsatisfiable" });
    expect(chooseRange("bytes=0-0", 0)).toEqual({ kind: "unsatisfiable" });
  });

  it("ignores absent, malformed, reversed and multi-range headers", () => {
    for (const h of [
      undefined,
      "",
      "bytes=",
      "bytes=-",
      "items=0-1",
      "bytes=5-2",
      "bytes=0-1,3-4",
    ]) {
      expect(chooseRange(h, 10)).toEqual({ kind: "full" });
    }
  });

  it("formats Content-Range", () => {
    expect(contentRange(7, 3, 10)).toBe("bytes 7-9/10");
  });
});
