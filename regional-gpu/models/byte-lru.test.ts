import { describe, expect, it } from "vitest";
import { ByteLru } from "./byte-lru.ts";

describe("ByteLru", () => {
  it("picks least recently used victims until the extra bytes fit", () => {
    const lru = new ByteLru<string>();
    lru.set("a", 40);
    lru.set("b", 30);
    lru.set("c", 20);
    lru.touch("a");
    expect(lru.keys()).toEqual(["b", "c", "a"]);
    expect(lru.totalBytes).toBe(90);
    expect(lru.victims(100)).toEqual({ keys: [], fits: true });
    expect(lru.victims(100, 25)).toEqual({ keys: ["b"], fits: true });
    expect(lru.victims(100, 45)).toEqual({ keys: ["b", "c"], fits: true });
    expect(lru.victims(50, 20)).toEqual({ keys: ["b", "c", "a"], fits: true });
  });

  it("never offers pinned or protected keys, and says when nothing is enough", () => {
    const lru = new ByteLru<string>();
    lru.set("pinned", 50, { pinned: true });
    lru.set("busy", 30);
    lru.set("idle", 10);
    expect(lru.pinnedBytes()).toBe(50);
    expect(lru.victims(60, 20, (k) => k === "busy")).toEqual({ keys: ["idle"], fits: false });
    expect(lru.victims(100, 20, (k) => k === "busy")).toEqual({ keys: ["idle"], fits: true });
    // Replacing an entry keeps its pin unless told otherwise.
    lru.set("pinned", 55);
    expect(lru.isPinned("pinned")).toBe(true);
    expect(lru.totalBytes).toBe(95);
  });

  it("keeps the byte total exact across replace and delete", () => {
    const lru = new ByteLru<string>();
    lru.set("a", 10);
    lru.set("a", 15);
    lru.set("b", 5);
    expect(lru.totalBytes).toBe(20);
    expect(lru.delete("a")).toBe(true);
    expect(lru.delete("a")).toBe(false);
    expect(lru.totalBytes).toBe(5);
    expect(() => lru.set("c", -1)).toThrow(RangeError);
  });
});
