import { createHash } from "node:crypto";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { GraphBuilder, type ModelInfo } from "./onnx-graph.ts";

const INFO: ModelInfo = {
  graphName: "test",
  producerName: "onnx-graph.test",
  producerVersion: "1",
  docString: "",
  opset: 17,
  irVersion: 8,
};

/** y = softmax(x @ w) and the top-1 index, with a symbolic batch. */
function smallGraph(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input({ name: "x", type: "float32", shape: ["batch", 3] });
  const w = g.constant("w", Float32Array.of(1, 0, 0, 1, 1, 1), [3, 2]);
  g.op("Softmax", [g.op("MatMul", [x, w])], { axis: -1 }, "y");
  const [, index] = g.opWithOutputs("TopK", [x, g.ints("k", [1])], ["top_value", "top_index"], {
    axis: -1,
  });
  g.op("Identity", [index!], {}, "argmax");
  g.output({ name: "y", type: "float32", shape: ["batch", 2] });
  g.output({ name: "argmax", type: "int64", shape: ["batch", 1] });
  return g.encode(INFO);
}

describe("GraphBuilder", () => {
  it("emits a model ONNX Runtime loads and runs, with symbolic batch", async () => {
    const session = await InferenceSession.create(smallGraph(), { executionProviders: ["cpu"] });
    expect(session.inputNames).toEqual(["x"]);
    expect(session.outputNames).toEqual(["y", "argmax"]);
    const x = new Tensor("float32", Float32Array.of(0, 0, 0, 2, 0, -1, 0, 0, 5), [3, 3]);
    const { y, argmax } = await session.run({ x });
    expect(y!.dims).toEqual([3, 2]);
    const values = Array.from(y!.data as Float32Array);
    expect(values[0]).toBeCloseTo(0.5, 6);
    expect(values[2]! + values[3]!).toBeCloseTo(1, 6);
    expect(values[2]!).toBeCloseTo(1 / (1 + Math.exp(-2)), 6); // logits [1, -1]
    expect(Array.from(argmax!.data as BigInt64Array)).toEqual([0n, 0n, 2n]);
    await session.release();
  });

  it("encodes the same graph to the same bytes", () => {
    const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    expect(digest(smallGraph())).toBe(digest(smallGraph()));
  });

  it("rejects wiring mistakes while building", () => {
    const g = new GraphBuilder();
    const x = g.input({ name: "x", type: "float32", shape: [1] });
    expect(() => g.op("Relu", ["nope"])).toThrow(/unknown input nope/);
    expect(() => g.constant("x", Float32Array.of(1), [1])).toThrow(/duplicate/);
    expect(() => g.constant("c", Float32Array.of(1, 2), [3])).toThrow(/do not hold/);
    expect(() => g.op("Relu", [x], { alpha: 0.5 })).toThrow(/non-integers/);
    expect(() => g.output({ name: "missing", type: "float32", shape: [1] })).toThrow(
      /not produced/,
    );
  });
});
