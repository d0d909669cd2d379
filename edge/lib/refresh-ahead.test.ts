import { describe, expect, it } from "vitest";
import { RefreshAhead } from "./refresh-ahead.ts";

/** A source whose reads the test answers by hand, and a background that collects re-reads. */
function harness(opts: { keep?: (v: string) => boolean } = {}) {
  let now = 1_000;
  let version = 1;
  const reads: Array<{ key: string; answer: (v?: string) => void; fail: () => void }> = [];
  const background: Promise<unknown>[] = [];
  const cache = new RefreshAhead<string, string>({
    load: (key) =>
      new Promise<string>((resolve, reject) =>
        reads.push({
          key,
          answer: (v) => resolve(v ?? `${key}@v${version}`),
          fail: () => reject(new Error("database unreachable")),
        }),
      ),
    clock: () => now,
    ttlMs: 1_000,
    background: (work) => background.push(work),
    ...opts,
  });
  return {
    cache,
    reads,
    background,
    at: (t: number) => void (now = t),
    change: () => void version++,
    /** Answers every read not yet answered. */
    async settle() {
      for (const r of reads.splice(0)) r.answer();
      await Promise.all(background.splice(0));
    },
  };
}

describe("RefreshAhead", () => {
  it("reads once per key while young, and again behind the request past half its life", async () => {
    const h = harness();
    const first = h.cache.get("k");
    const same = h.cache.get("k");
    expect(h.reads).toHaveLength(1);
    await h.settle();
    expect(await first).toBe("k@v1");
    expect(await same).toBe("k@v1");

    h.change();
    h.at(1_499);
    expect(await h.cache.get("k")).toBe("k@v1");
    expect(h.reads).toHaveLength(0);

    // Past half its life: answered from the copy at once, one re-read started (not two).
    h.at(1_500);
    expect(await h.cache.get("k")).toBe("k@v1");
    expect(await h.cache.get("k")).toBe("k@v1");
    expect(h.reads).toHaveLength(1);
    expect(h.background).toHaveLength(1);
    await h.settle();
    expect(await h.cache.get("k")).toBe("k@v2");
  });

  it("never serves a copy older than ttlMs, counted from when its read began", async () => {
    const h = harness();
    const first = h.cache.get("k");
    h.at(1_900); // the read took 900 ms
    await h.settle();
    await first;
    h.change();
    // Its age is 900 ms, not 0: a re-read starts behind this request.
    expect(await h.cache.get("k")).toBe("k@v1");
    expect(h.reads).toHaveLength(1);
    // That re-read is slow; at 1 000 ms the old copy is out, and the request waits for a read.
    h.at(2_000);
    const waited = h.cache.get("k");
    expect(h.reads).toHaveLength(2);
    await h.settle();
    expect(await waited).toBe("k@v2");
  });

  it("invalidate: the next get reads at once, and a re-read under way cannot land after it", async () => {
    const h = harness();
    const first = h.cache.get("k");
    await h.settle();
    await first;
    h.at(1_600);
    h.cache.get("k"); // re-read of v1 under way
    const stale = h.reads.splice(0)[0]!;

    h.change(); // this isolate changed the row: it must see v2 from now on
    h.cache.invalidate("k");
    const fresh = h.cache.get("k");
    h.reads.splice(0)[0]!.answer();
    expect(await fresh).toBe("k@v2");
    stale.answer("k@v1");
    await Promise.all(h.background.splice(0));
    expect(await h.cache.get("k")).toBe("k@v2");
    expect(h.reads).toHaveLength(0);
  });

  it("invalidate during a first read: that read's value is not kept", async () => {
    const h = harness();
    const before = h.cache.get("k");
    h.cache.invalidate();
    h.change();
    const after = h.cache.get("k");
    expect(h.reads).toHaveLength(2);
    h.reads[0]!.answer("k@v1");
    h.reads[1]!.answer();
    h.reads.length = 0;
    expect(await before).toBe("k@v1");
    expect(await after).toBe("k@v2");
    expect(await h.cache.get("k")).toBe("k@v2");
  });

  it("a failed read is not remembered; a failed re-read keeps the copy until it runs out", async () => {
    const h = harness();
    const failed = h.cache.get("k");
    h.reads.splice(0)[0]!.fail();
    await expect(failed).rejects.toThrow("unreachable");
    const ok = h.cache.get("k");
    expect(h.reads).toHaveLength(1);
    await h.settle();
    expect(await ok).toBe("k@v1");

    h.at(1_600);
    await h.cache.get("k");
    h.reads.splice(0)[0]!.fail();
    await Promise.all(h.background.splice(0)); // never rejects
    expect(await h.cache.get("k")).toBe("k@v1"); // and the next request tries again
    expect(h.reads).toHaveLength(1);
    h.at(2_000);
    expect(h.cache.peek("k")).toBeNull();
  });

  it("keeps only what `keep` accepts, and at most maxEntries keys", async () => {
    const h = harness({ keep: (v) => v !== "none" });
    const missing = h.cache.get("gone");
    h.reads.splice(0)[0]!.answer("none");
    expect(await missing).toBe("none");
    h.cache.get("gone");
    expect(h.reads).toHaveLength(1);
    await h.settle();

    const small = new RefreshAhead<number, number>({
      load: async (k) => k,
      ttlMs: 1_000,
      maxEntries: 2,
    });
    await small.get(1);
    await small.get(2);
    await small.get(3);
    expect(small.peek(1)).toBeNull();
    expect(await small.peek(3)).toBe(3);
  });

  it("reads again when the clock goes back", async () => {
    const h = harness();
    h.at(5_000);
    const first = h.cache.get("k");
    await h.settle();
    await first;
    h.at(4_000);
    h.cache.get("k");
    expect(h.reads).toHaveLength(1);
    await h.settle();
  });
});
