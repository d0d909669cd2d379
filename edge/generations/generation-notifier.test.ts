import { describe, expect, it } from "vitest";
import { GenerationNotifier } from "./generation-notifier.ts";

describe("GenerationNotifier", () => {
  it("wakes every waiter of a generation, and only those", async () => {
    const notifier = new GenerationNotifier();
    const a1 = notifier.next("gen_a", 5_000);
    const a2 = notifier.next("gen_a", 5_000);
    const b = notifier.next("gen_b", 50);
    notifier.notify("gen_a");
    expect(await Promise.all([a1, a2])).toEqual(["notified", "notified"]);
    expect(await b).toBe("timeout");
    expect(notifier.size).toBe(0);
  });

  it("forgets waiters that timed out", async () => {
    const notifier = new GenerationNotifier();
    expect(await notifier.next("gen_a", 10)).toBe("timeout");
    expect(notifier.size).toBe(0);
    notifier.notify("gen_a");
  });

  // On Workers, a waiter resumed by the notifying request's promise runs in that request's I/O
  // context; the waiter must resume from its own timer instead.
  it("never settles a waiter from inside notify(): the waiter's own timer does", async () => {
    const notifier = new GenerationNotifier({ checkMs: 20 });
    let settled = false;
    const started = performance.now();
    const waiting = notifier.next("gen_a", 5_000).then((r) => {
      settled = true;
      return r;
    });
    notifier.notify("gen_a");
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(settled).toBe(false);
    expect(await waiting).toBe("notified");
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("remembers a notification that lands between two waits of one watch", async () => {
    const notifier = new GenerationNotifier({ checkMs: 5 });
    const watch = notifier.watch("gen_a");
    notifier.notify("gen_a");
    expect(await watch.changed(1_000)).toBe("notified");
    // Consumed: the next wait needs a new notification.
    expect(await watch.changed(30)).toBe("timeout");
    watch.close();
    expect(notifier.size).toBe(0);
  });

  it("times out on time when nothing happens", async () => {
    const notifier = new GenerationNotifier({ checkMs: 25 });
    const started = performance.now();
    expect(await notifier.next("gen_a", 60)).toBe("timeout");
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect(elapsed).toBeLessThan(400);
  });
});
