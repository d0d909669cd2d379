import { InferenceSession, Tensor } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { SeededRandom } from "../pipelines/seeded-random.ts";
import { invariantMatMul, invariantSquaredNorm } from "./batch-invariant.ts";
import { GraphBuilder } from "./onnx-graph.ts";

const ROWS = 100;
const COLS = 33;

async function session(matrix: Float32Array): Promise<InferenceSession> {
  const g = new GraphBuilder();
  const x = g.input({ name: "x", type: "float32", shape: ["batch", ROWS] });
  g.op("Identity", [invariantMatMul(g, x, "w", matrix, ROWS, COLS)], {}, "y");
  g.op("Identity", [invariantSquaredNorm(g, x, "ones", ROWS)], {}, "norm");
  g.output({ name: "y", type: "float32", shape: ["batch", COLS] });
  g.output({ name: "norm", type: "float32", shape: ["batch", 1] });
  const model = g.encode({
    graphName: "t",
    producerName: "t",
    producerVersion: "1",
    docString: "",
    opset: 17,
    irVersion: 8,
  });
  // Default optimizations on: the transpose optimizer is one of the things this must survive.
  return InferenceSession.create(model, { executionProviders: ["cpu"] });
}

describe("invariantMatMul", () => {
  it("computes x @ W and gives every row the same bits whatever the batch size", async () => {
    const random = new SeededRandom(3);
    const matrix = Float32Array.from({ length: ROWS * COLS }, () => random.nextNormal());
    const x = Float32Array.from({ length: 4 * ROWS }, () => random.nextNormal());
    const s = await session(matrix);
    const run = async (rows: Float32Array, batch: number) =>
      s.run({ x: new Tensor("float32", rows, [batch, ROWS]) });

    const all = await run(x, 4);
    const y = all.y!.data as Float32Array;
    for (let b = 0; b < 4; b++) {
      for (let c = 0; c < COLS; c++) {
        let expected = 0;
        for (let r = 0; r < ROWS; r++) expected += x[b * ROWS + r]! * matrix[r * COLS + c]!;
        expect(y[b * COLS + c]).toBeCloseTo(expected, 3);
      }
    }
    for (let b = 0; b < 4; b++) {
      const alone = await run(x.slice(b * ROWS, (b + 1) * ROWS), 1);
      expect(alone.y!.data).toEqual(y.slice(b * COLS, (b + 1) * COLS));
      expect((alone.norm!.data as Float32Array)[0]).toBe((all.norm!.data as Float32Array)[b]);
    }
    await s.release();
  });
});
