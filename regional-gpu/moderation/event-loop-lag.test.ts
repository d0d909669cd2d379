import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { loopLagDuring } from "./event-loop-lag.ts";

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe("loopLagDuring", () => {
  it("sees a loop blocked by work chained only on microtasks", async () => {
    const lag = await loopLagDuring(async () => {
      for (let i = 0; i < 4; i++) {
        busy(30);
        await Promise.resolve();
      }
    });
    expect(lag.maxGapMs).toBeGreaterThanOrEqual(115);
  });

  it("sees no stall while the work waits on timers", async () => {
    const lag = await loopLagDuring(() => sleep(120));
    expect(lag.wallMs).toBeGreaterThanOrEqual(115);
    expect(lag.maxGapMs).toBeLessThan(60);
  });
});
