import { join } from "node:path";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../log.ts";
import { PIPELINE_FACTORIES } from "../models/pipeline-factories.ts";
import type { ImageRequest } from "../pipelines/pipeline.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { WorkerSessionFactory } from "./worker-sessions.ts";

// Sessions on the executor thread against sessions on the calling thread, with the real reference
// model: same bytes, but the event loop keeps turning while a batch runs.

let model: TestModel;
let dir: string;
let factory: WorkerSessionFactory;

beforeAll(async () => {
  model = await referenceModel();
  dir = join(model.modelsDir, model.manifest.name, model.manifest.version);
  factory = new WorkerSessionFactory({ choice: "cpu", logger: createLogger({ level: "silent" }) });
});
afterAll(async () => {
  await factory.close();
});

const pipelineOn = (session: InferenceSession) =>
  PIPELINE_FACTORIES[model.manifest.pipeline]({ manifest: model.manifest, dir, session });
const requests = (side: number): ImageRequest[] =>
  [1, 2].map((seed) => ({ prompt: "teal harbour at dawn", seed, width: side, height: side }));

/** Longest gap between 5 ms ticks while `work` runs. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work();
    longest = Math.max(longest, performance.now() - last);
  } finally {
    clearInterval(ticker);
  }
  return longest;
}

describe("WorkerSessionFactory", () => {
  it("runs the model off the event loop with the same output bytes as an in-thread session", async () => {
    const local = await InferenceSession.create(join(dir, model.manifest.file), {
      executionProviders: ["cpu"],
    });
    const { session, executionProvider } = await factory.create(join(dir, model.manifest.file));
    expect(executionProvider).toBe("cpu");
    expect(session.inputNames).toEqual(local.inputNames);
    expect(session.outputNames).toEqual(local.outputNames);
    expect(session.inputMetadata).toEqual(local.inputMetadata);
    try {
      const [onThread, onWorker] = [await pipelineOn(local), await pipelineOn(session)];
      const batch = requests(256);
      let expected: Awaited<ReturnType<typeof onThread.run>> = [];
      const inThreadStall = await longestStall(async () => (expected = await onThread.run(batch)));
      let actual: typeof expected = [];
      const workerStall = await longestStall(async () => (actual = await onWorker.run(batch)));
      expect(actual.map((i) => Buffer.from(i.data).equals(Buffer.from(expected[0]!.data)))).toEqual(
        [true, false],
      );
      expect(Buffer.from(actual[1]!.data).equals(Buffer.from(expected[1]!.data))).toBe(true);
      // In-thread, session.run holds the event loop for the whole run; on the executor it does not.
      expect(workerStall).toBeLessThan(inThreadStall / 2);
    } finally {
      await local.release();
      await session.release();
    }
  });

  it("answers ONNX Runtime's errors, stays usable after one, and refuses a released session", async () => {
    const { session } = await factory.create(join(dir, model.manifest.file));
    const wrongType = { token_ids: new Tensor("float32", new Float32Array(4), [1, 4]) };
    await expect(session.run(wrongType)).rejects.toThrow(/token_ids|input|type/i);
    const pipeline = await pipelineOn(session);
    expect(await pipeline.run(requests(64))).toHaveLength(2);
    await session.release();
    await expect(session.run({})).rejects.toThrow(/released/);
  });

  it("rejects a model file that cannot be loaded, naming it", async () => {
    const missing = join(dir, "no-such-model.onnx");
    await expect(factory.create(missing)).rejects.toThrow(/no-such-model\.onnx/);
  });
});
