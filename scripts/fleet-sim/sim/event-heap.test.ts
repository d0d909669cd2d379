import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../../regional-gpu/pipelines/seeded-random.ts";
import { EventHeap } from "./event-heap.ts";

describe("EventHeap", () => {
  it("pops in time order, ties in insertion order", () => {
    const heap = new EventHeap<"e">();
    const random = new SeededRandom(3);
    const pushed: Array<{ at: number; n: number }> = [];
    for (let n = 0; n < 500; n++) {
      const at = Math.floor(random.nextFloat() * 50);
      heap.push(at, "e", n);
      pushed.push({ at, n });
    }
    const popped: number[] = [];
    while (heap.size > 0) popped.push(heap.pop()!.ref as number);
    expect(popped).toEqual(pushed.sort((a, b) => a.at - b.at || a.n - b.n).map((p) => p.n));
    expect(heap.peekAt()).toBe(Infinity);
  });
});
