import { describe, expect, it } from "vitest";
import { cacheModeOf, cacheStatus } from "./cache-directive.ts";

describe("cacheModeOf", () => {
  it.each<[object, string | undefined, string]>([
    [{ seed: 1 }, undefined, "use"],
    [{ seed: 1, cache: true }, "max-age=0", "use"],
    [{}, undefined, "bypass"],
    [{ cache: true }, undefined, "bypass"],
    [{ seed: 1, cache: false }, undefined, "request"],
    [{ seed: 1 }, "no-cache", "request"],
    [{ seed: 1 }, "max-age=0, No-Cache", "request"],
    [{ seed: 1 }, 'no-cache="set-cookie"', "request"],
    [{ seed: 1 }, "no-store", "request"],
    [{ seed: 1 }, "no-transform", "use"],
  ])("%j with Cache-Control %j -> %s", (body, header, mode) => {
    expect(cacheModeOf(body, header)).toBe(mode);
  });
});

describe("cacheStatus", () => {
  it("writes RFC 9211 Cache-Status values", () => {
    expect(cacheStatus("hit")).toBe("genart; hit");
    expect(cacheStatus("collapsed")).toBe("genart; fwd=miss; collapsed");
    expect(cacheStatus("miss")).toBe("genart; fwd=miss");
    expect(cacheStatus("request")).toBe("genart; fwd=request");
    expect(cacheStatus("bypass")).toBe("genart; fwd=bypass");
  });
});
