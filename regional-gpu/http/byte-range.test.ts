import { describe, expect, it } from "vitest";
import { contentRange, parseRange } from "./byte-range.ts";

describe("parseRange", () => {
  it("reads the three single-range forms", () => {
    expect(parseRange("bytes=0-3", 10)).toEqual({ kind: "range", offset: 0, length: 4 });
    expect(parseRange("bytes=4-", 10)).toEqual({ kind: "range", offset: 4, length: 6 });
    expect(parseRange("bytes=-3", 10)).toEqual({ kind: "range", offset: 7, length: 3 });
  });

  it("clamps ranges that run past the end", () => {
    expect(parseRange("bytes=8-100", 10)).toEqual({ kind: "range", offset: 8, length: 2 });
    expect(parseRange("bytes=-100", 10)).toEqual({ kind: "range", offset: 0, length: 10 });
  });

  it("refuses ranges that start past the end", () => {
    expect(parseRange("bytes=10-", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=0-0", 0)).toEqual({ kind: "unsatisfiable" });
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
      expect(parseRange(h, 10)).toEqual({ kind: "none" });
    }
  });

  it("formats Content-Range", () => {
    expect(contentRange(7, 3, 10)).toBe("bytes 7-9/10");
  });
});
