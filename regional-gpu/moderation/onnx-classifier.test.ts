import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SafetyScores } from "../../contracts/region-protocol.ts";
import { WorkerSessionFactory } from "../inference/worker-sessions.ts";
import { createLogger } from "../log.ts";
import { OrtSessionFactory, type SessionFactory } from "../models/session-factory.ts";
import { TEST_CLASSIFIERS_DIR } from "../testing/classifiers.ts";
import { OnnxClassifier } from "./onnx-classifier.ts";
import { ClassifierUnavailableError } from "./safety-classifier.ts";
import { startModerator } from "./shared-moderator.ts";
import { noise, ramp, solid } from "./synthetic-images.ts";

// The converted screen on ONNX Runtime: on the node's kind of executor thread (the event loop stays
// free, waiting batches run together), and on sessions that fail on demand (a failed run fails its
// batches and the session is loaded again; a failed load is tried again; closed means closed).

const logger = createLogger({ level: "silent" });
const side = 224;

let executor: WorkerSessionFactory;
let screen: OnnxClassifier;
beforeAll(async () => {
  executor = new WorkerSessionFactory({ choice: "cpu", logger });
  screen = new OnnxClassifier({
    model: "MobileNetV2Mid",
    sessions: executor,
    dir: TEST_CLASSIFIERS_DIR,
    logger,
  });
  await screen.load();
}, 120_000);
afterAll(async () => {
  await screen?.close();
  await executor?.close();
});

/**
 * Real CPU sessions whose runs fail while `failRuns` is set, or on an all-white image (the session
 * then stays broken, as one whose executor thread died), and whose loads fail while `failLoads` is;
 * `loads` and `releases` count sessions created and released.
 */
function faultySessions() {
  const inner = new OrtSessionFactory({ choice: "cpu", logger });
  const state = { failRuns: false, failLoads: false, loads: 0, releases: 0 };
  const factory: SessionFactory = {
    async create(path) {
      if (state.failLoads) throw new Error("model failed to load");
      state.loads++;
      const created = await inner.create(path);
      let broken = false;
      const session = new Proxy(created.session, {
        get(target, prop, receiver) {
          if (prop === "release") {
            return () => {
              state.releases++;
              return target.release();
            };
          }
          if (prop !== "run") return Reflect.get(target, prop, receiver);
          return async (...args: Parameters<typeof target.run>) => {
            const pixels = (args[0] as unknown as { pixels: { data: Uint8Array } }).pixels.data;
            if (pixels[0] === 255) broken = true;
            if (broken || state.failRuns) throw new Error("executor thread exited");
            return target.run(...args);
          };
        },
      });
      return { ...created, session };
    },
  };
  return { factory, state };
}

const white = () => solid(side, [255, 255, 255]).data;

describe("OnnxClassifier (executor thread)", () => {
  it("classifies off the event loop: the loop keeps turning while a batch runs", async () => {
    const batch = Array.from({ length: 8 }, (_, i) => ramp(side, side, i * 10).data);
    await screen.classify(batch);
    // Counts event-loop turns while a batch runs. In-thread, the run would hold the loop: only the
    // few turns between classify's own awaits. Off the loop, thousands (a batch takes tens of ms,
    // a turn microseconds). Counting turns instead of timing gaps holds on a loaded machine, where
    // the process itself may wait for a core.
    let turns = 0;
    let running = true;
    const spinning = (async () => {
      while (running) {
        await new Promise((resolve) => setImmediate(resolve));
        turns++;
      }
    })();
    await screen.classify(batch);
    running = false;
    await spinning;
    expect(turns).toBeGreaterThan(100);
    expect(screen.executionProvider).toBe("cpu");
  });

  it("gives the same scores to images in one batch, in batches waiting together, and alone", async () => {
    const images = [
      ramp(side, side),
      noise(side, 3),
      solid(side, [200, 40, 90]),
      ramp(side, side, 60),
    ];
    const alone: SafetyScores[] = [];
    for (const img of images) alone.push((await screen.classify([img.data]))[0]!);
    const oneBatch = await screen.classify(images.map((img) => img.data));
    const waiting = (await Promise.all(images.map((img) => screen.classify([img.data])))).flat();
    for (const scores of [oneBatch, waiting]) {
      scores.forEach((s, i) => {
        for (const [c, p] of Object.entries(s)) {
          expect(p).toBeCloseTo(alone[i]![c as keyof SafetyScores], 4);
        }
      });
    }
    expect(screen.id).toMatch(/^nsfwjs\/MobileNetV2Mid@\d+\.\d+\.\d+\+onnx$/);
  });

  it("refuses an input of the wrong size", async () => {
    await expect(screen.classify([new Uint8Array(10)])).rejects.toThrow(/224x224 RGB/);
  });
});

describe("OnnxClassifier (failing sessions)", () => {
  const start = (factory: SessionFactory) =>
    new OnnxClassifier({
      model: "MobileNetV2Mid",
      sessions: factory,
      dir: TEST_CLASSIFIERS_DIR,
      logger,
    });

  it("fails the batch of a run that fails, loads the session again and goes on", async () => {
    const { factory, state } = faultySessions();
    const classifier = start(factory);
    try {
      await classifier.load();
      expect(state.loads).toBe(1);
      await expect(classifier.classify([white()])).rejects.toThrow(/executor thread exited/);
      const [next] = await classifier.classify([solid(side, [10, 20, 30]).data]);
      expect(next!.neutral).toBeGreaterThan(0);
      expect(state.loads).toBe(2);
    } finally {
      await classifier.close();
    }
  });

  it("rejects waiting and new checks once closed", async () => {
    const { factory } = faultySessions();
    const classifier = start(factory);
    await classifier.load();
    const waiting = [
      classifier.classify([ramp(side, side).data]),
      classifier.classify([noise(side, 1).data]),
    ];
    const settled = Promise.allSettled(waiting);
    await classifier.close();
    const outcomes = await settled;
    // The first was already running and finishes; the one waiting behind it is refused.
    expect(outcomes[0]!.status).toBe("fulfilled");
    expect(outcomes[1]).toMatchObject({
      status: "rejected",
      reason: expect.any(ClassifierUnavailableError),
    });
    await expect(classifier.classify([ramp(side, side).data])).rejects.toBeInstanceOf(
      ClassifierUnavailableError,
    );
  });

  it("loads on first use, and tries again after a failed load", async () => {
    const { factory, state } = faultySessions();
    const classifier = start(factory);
    try {
      state.failLoads = true;
      await expect(classifier.classify([ramp(side, side).data])).rejects.toBeInstanceOf(
        ClassifierUnavailableError,
      );
      expect(state.loads).toBe(0);
      state.failLoads = false;
      const [scores] = await classifier.classify([ramp(side, side).data]);
      expect(scores!.drawing + scores!.neutral).toBeGreaterThan(0);
      expect(state.loads).toBe(1);
    } finally {
      await classifier.close();
    }
  });

  it("releases a session whose warm-up run fails, and loads it again for the next batch", async () => {
    const { factory, state } = faultySessions();
    const classifier = start(factory);
    try {
      state.failRuns = true;
      await expect(classifier.load()).rejects.toThrow(/executor thread exited/);
      expect(state).toMatchObject({ loads: 1, releases: 1 });
      state.failRuns = false;
      const [scores] = await classifier.classify([ramp(side, side).data]);
      expect(scores!.drawing + scores!.neutral).toBeGreaterThan(0);
      expect(state.loads).toBe(2);
    } finally {
      await classifier.close();
    }
    expect(state.releases).toBe(2);
  });

  it("fails the moderator's start when the screen cannot load", async () => {
    const { factory, state } = faultySessions();
    state.failLoads = true;
    const starting = startModerator({
      screenModel: "MobileNetV2Mid",
      confirmModel: "InceptionV3",
      executionProvider: "cpu",
      dir: TEST_CLASSIFIERS_DIR,
      logger,
      sessions: factory,
    });
    await expect(starting).rejects.toThrow(/model failed to load/);
  });
});
