import { InferenceSession, Tensor } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../onnx-graph.ts";
import { NchwNet, onnxKernel, tfPadding } from "./nchw-net.ts";

// TensorFlow's conventions carried into ONNX: SAME padding puts the odd row and column at the end,
// kernels move from [kh, kw, in, out] to [out, in, kh, kw] (depthwise: channel-major), and a
// flatten keeps TensorFlow's NHWC element order.

describe("tfPadding", () => {
  it("pads like TensorFlow: SAME keeps ceil(in / stride), the extra pixel at the end", () => {
    expect(tfPadding(224, 3, 2, 1, "same")).toEqual({ before: 0, after: 1, output: 112 });
    expect(tfPadding(35, 3, 1, 1, "same")).toEqual({ before: 1, after: 1, output: 35 });
    expect(tfPadding(17, 7, 1, 1, "same")).toEqual({ before: 3, after: 3, output: 17 });
    expect(tfPadding(299, 3, 2, 1, "valid")).toEqual({ before: 0, after: 0, output: 149 });
    expect(tfPadding(8, 8, 8, 1, "valid")).toEqual({ before: 0, after: 0, output: 1 });
  });
});

describe("onnxKernel", () => {
  it("moves a conv kernel to [out, in, kh, kw] and a depthwise one to [in * mult, 1, kh, kw]", () => {
    // [kh=1, kw=2, in=2, out=3]: value = 100 * x + 10 * i + o.
    const shape = [1, 2, 2, 3];
    const values = Float32Array.from({ length: 12 }, (_, n) => {
      const [x, i, o] = [Math.floor(n / 6), Math.floor(n / 3) % 2, n % 3];
      return 100 * x + 10 * i + o;
    });
    const conv = onnxKernel({ shape, values }, false);
    // [o][i][0][x]
    expect(conv[((2 * 2 + 1) * 1 + 0) * 2 + 1]).toBe(100 + 10 + 2);
    const depthwise = onnxKernel({ shape, values }, true);
    // channel i * 3 + o, then [0][x]
    expect(depthwise[(1 * 3 + 2) * 2 + 1]).toBe(100 + 10 + 2);
  });
});

describe("NchwNet", () => {
  it("turns NHWC uint8 pixels into a same-padded stride-2 convolution and an NHWC-order flatten", async () => {
    const g = new GraphBuilder();
    const net = new NchwNet(g);
    const x = net.pixelsInput("pixels", 4);
    // One 3x3 kernel summing channel 0 over the window: with SAME at stride 2 on 4x4 the output is
    // 2x2 and windows at the right and bottom edge see one padded row or column.
    const values = new Float32Array(27);
    for (let k = 0; k < 9; k++) values[k * 3] = 255;
    const y = net.conv(x, {
      name: "sum",
      kernel: { shape: [3, 3, 3, 1], values },
      depthwise: false,
      strides: [2, 2],
      padding: "same",
    });
    net.output(net.flatten(y), "out");
    const session = await InferenceSession.create(
      g.encode({
        graphName: "t",
        producerName: "t",
        producerVersion: "1",
        docString: "",
        opset: 17,
        irVersion: 8,
      }),
      { executionProviders: ["cpu"] },
    );
    const pixels = new Uint8Array(4 * 4 * 3);
    for (let p = 0; p < 16; p++) pixels[p * 3] = 1; // channel 0 = 1 everywhere
    const out = await session.run({ pixels: new Tensor("uint8", pixels, [1, 4, 4, 3]) });
    // TensorFlow pads 0 before and 1 after: windows start at rows/cols 0 and 2.
    expect(Array.from(out.out!.data as Float32Array)).toEqual([9, 6, 6, 4]);
    await session.release();
  });
});
