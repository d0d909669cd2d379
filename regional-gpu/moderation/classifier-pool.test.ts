import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SafetyScores } from "../../contracts/region-protocol.ts";
import { createLogger } from "../log.ts";
import {
  ClassifierPool,
  ClassifierUnavailableError,
  LazyClassifierPool,
} from "./classifier-pool.ts";
import { loopLagDuring } from "./event-loop-lag.ts";
import { noise, ramp, solid } from "./synthetic-images.ts";

// The worker pool with the real classifier (event loop kept free, batching of waiting images) and
// with a crashing stand-in worker (crash, replacement, load failure).

const logger = createLogger({ level: "silent" });
const CRASHING = new URL("./test-workers/crash-on-white-worker.ts", import.meta.url);

let pool: ClassifierPool;
beforeAll(async () => {
  pool = await ClassifierPool.start({
    model: "MobileNetV2Mid",
    backend: "wasm",
    workers: 1,
    logger,
  });
}, 120_000);
afterAll(() => pool?.close());

describe("ClassifierPool (real classifier)", () => {
  it("classifies off the event loop: the loop stays responsive while checks run", async () => {
    const input = ramp(224, 224).data;
    await pool.classify(input.slice());
    const latencies: number[] = [];
    const lag = await loopLagDuring(async () => {
      for (let i = 0; i < 4; i++) {
        const started = performance.now();
        await pool.classify(input.slice());
        latencies.push(performance.now() - started);
      }
    });
    // On the event loop, each check (224x224 input: no resize) would stall it for the whole check;
    // the margin leaves room for the scheduling noise of a loaded machine.
    expect(lag.maxGapMs).toBeLessThan(Math.min(...latencies) * 0.8);
  });

  it("gives the same scores to images waiting together as to each alone", async () => {
    const images = [ramp(224, 224), noise(224, 3), solid(224, [200, 40, 90]), ramp(224, 224, 60)];
    const alone: SafetyScores[] = [];
    for (const img of images) alone.push(await pool.classify(img.data.slice()));
    const together = await Promise.all(images.map((img) => pool.classify(img.data.slice())));
    together.forEach((scores, i) => {
      for (const [c, p] of Object.entries(scores)) {
        expect(p).toBeCloseTo(alone[i]![c as keyof typeof scores], 4);
      }
    });
    expect(pool.id).toMatch(/^nsfwjs\/MobileNetV2Mid@/);
    expect(pool.queued()).toBe(0);
  });

  it("refuses an input of the wrong size", async () => {
    await expect(pool.classify(new Uint8Array(10))).rejects.toThrow(/224x224 RGB/);
  });
});

describe("ClassifierPool (crashing worker)", () => {
  const start = () =>
    ClassifierPool.start({
      model: "MobileNetV2Mid",
      backend: "wasm",
      workers: 1,
      logger,
      workerUrl: CRASHING,
    });

  it("fails the batch of a worker that dies, replaces the worker and goes on", async () => {
    const p = await start();
    try {
      const crash = p.classify(solid(224, [255, 255, 255]).data);
      await expect(crash).rejects.toBeInstanceOf(ClassifierUnavailableError);
      // Waits for the replacement rather than failing: one is starting.
      const next = await p.classify(solid(224, [10, 20, 30]).data);
      expect(next.neutral).toBe(1);
    } finally {
      await p.close();
    }
  });

  it("rejects waiting and new checks once closed", async () => {
    const p = await start();
    await p.close();
    await expect(p.classify(solid(224, [1, 2, 3]).data)).rejects.toBeInstanceOf(
      ClassifierUnavailableError,
    );
  });

  it("starts a lazy pool on first use, and tries again after a failed load", async () => {
    const lazy = new LazyClassifierPool({
      model: "MobileNetV2Mid",
      backend: "wasm",
      workers: 1,
      logger,
      workerUrl: CRASHING,
    });
    try {
      expect(lazy.id).toBe("");
      process.env.CLASSIFIER_TEST_FAIL_LOAD = "1";
      await expect(lazy.classify(solid(224, [1, 2, 3]).data)).rejects.toBeInstanceOf(
        ClassifierUnavailableError,
      );
      delete process.env.CLASSIFIER_TEST_FAIL_LOAD;
      expect((await lazy.classify(solid(224, [1, 2, 3]).data)).neutral).toBe(1);
      expect(lazy.id).toBe("test/crash-on-white");
    } finally {
      delete process.env.CLASSIFIER_TEST_FAIL_LOAD;
      await lazy.close();
    }
  });

  it("fails to start when a worker cannot load its model", async () => {
    process.env.CLASSIFIER_TEST_FAIL_LOAD = "1";
    try {
      await expect(start()).rejects.toThrow(/model failed to load/);
    } finally {
      delete process.env.CLASSIFIER_TEST_FAIL_LOAD;
    }
  });
});
