import type { GraphBuilder } from "../onnx-graph.ts";

// The layers TensorFlow classifiers are made of, emitted as ONNX (NCHW, as ONNX Runtime's CPU and
// CUDA convolution kernels want it) from TensorFlow's NHWC weights and conventions. Shapes are
// tracked statically (batch symbolic), so TensorFlow's SAME padding becomes explicit ONNX pads:
// the extra row and column go at the end, as TensorFlow puts them.

/** A value in the graph and its shape: [batch, C, H, W] or [batch, features]; batch is -1. */
export interface Value {
  name: string;
  shape: number[];
}

export type Padding = "same" | "valid";

export interface ConvSpec {
  /** TensorFlow layout: [kh, kw, in, out], or [kh, kw, in, multiplier] when depthwise. */
  kernel: { shape: number[]; values: Float32Array };
  depthwise: boolean;
  bias?: Float32Array;
  strides: [number, number];
  dilations?: [number, number];
  padding: Padding;
  /** Weight names in the graph (must be unique). */
  name: string;
}

export interface BatchNormSpec {
  name: string;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
  /** Absent: 1 (Keras `scale: false`). */
  gamma?: Float32Array;
  /** Absent: 0 (Keras `center: false`). */
  beta?: Float32Array;
}

const at = (shape: number[], i: number): number => {
  const d = shape[i];
  if (d === undefined) throw new Error(`shape [${shape}] has no dimension ${i}`);
  return d;
};

/** TensorFlow's padding for one spatial axis: [before, after] and the output size. */
export function tfPadding(
  input: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Padding,
): { before: number; after: number; output: number } {
  const extent = (kernel - 1) * dilation + 1;
  if (padding === "valid") {
    return { before: 0, after: 0, output: Math.floor((input - extent) / stride) + 1 };
  }
  const output = Math.ceil(input / stride);
  const total = Math.max((output - 1) * stride + extent - input, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before, output };
}

/** [kh, kw, in, out] (or [kh, kw, in, mult]) -> ONNX [out, in / group, kh, kw]. */
export function onnxKernel(spec: ConvSpec["kernel"], depthwise: boolean): Float32Array {
  const [kh, kw, cin, cout] = [0, 1, 2, 3].map((i) => at(spec.shape, i)) as [
    number,
    number,
    number,
    number,
  ];
  const out = new Float32Array(spec.values.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          const source = spec.values[((y * kw + x) * cin + i) * cout + o]!;
          // Depthwise: output channel i * mult + o reads only input channel i.
          const target = depthwise
            ? (((i * cout + o) * 1 + 0) * kh + y) * kw + x
            : ((o * cin + i) * kh + y) * kw + x;
          out[target] = source;
        }
      }
    }
  }
  return out;
}

export class NchwNet {
  readonly g: GraphBuilder;
  private pads = 0;

  constructor(g: GraphBuilder) {
    this.g = g;
  }

  /** uint8 NHWC pixels -> float32 NCHW scaled to 0..1 (nsfwjs divides by 255 before the model). */
  pixelsInput(name: string, side: number): Value {
    const pixels = this.g.input({ name, type: "uint8", shape: ["batch", side, side, 3] });
    const floats = this.g.op("Cast", [pixels], { to: 1 });
    const nchw = this.g.op("Transpose", [floats], { perm: [0, 3, 1, 2] });
    const scaled = this.g.op("Div", [nchw, this.g.scalar(255, "pixel_scale")]);
    return { name: scaled, shape: [-1, 3, side, side] };
  }

  conv(x: Value, spec: ConvSpec): Value {
    const [kh, kw, cin, cout] = [0, 1, 2, 3].map((i) => at(spec.kernel.shape, i));
    const channels = at(x.shape, 1);
    if (cin !== channels)
      throw new Error(`${spec.name}: kernel takes ${cin} channels, got ${channels}`);
    const [sh, sw] = spec.strides;
    const [dh, dw] = spec.dilations ?? [1, 1];
    const rows = tfPadding(at(x.shape, 2), kh!, sh, dh, spec.padding);
    const cols = tfPadding(at(x.shape, 3), kw!, sw, dw, spec.padding);
    const outChannels = spec.depthwise ? cin! * cout! : cout!;
    const kernelDims = [outChannels, spec.depthwise ? 1 : cin!, kh!, kw!];
    const inputs = [
      x.name,
      this.g.constant(spec.name, onnxKernel(spec.kernel, spec.depthwise), kernelDims),
    ];
    if (spec.bias) {
      if (spec.bias.length !== outChannels) throw new Error(`${spec.name}: bias size mismatch`);
      inputs.push(this.g.constant(`${spec.name}/bias`, spec.bias, [outChannels]));
    }
    const y = this.g.op("Conv", inputs, {
      kernel_shape: [kh!, kw!],
      strides: [sh, sw],
      dilations: [dh, dw],
      pads: [rows.before, cols.before, rows.after, cols.after],
      group: spec.depthwise ? cin! : 1,
    });
    return { name: y, shape: [-1, outChannels, rows.output, cols.output] };
  }

  batchNorm(x: Value, spec: BatchNormSpec): Value {
    const c = at(x.shape, 1);
    const vector = (suffix: string, values: Float32Array | undefined, fill: number) => {
      const data = values ?? new Float32Array(c).fill(fill);
      if (data.length !== c)
        throw new Error(`${spec.name}/${suffix}: ${data.length} values, ${c} channels`);
      return this.g.constant(`${spec.name}/${suffix}`, data, [c]);
    };
    const y = this.g.op(
      "BatchNormalization",
      [
        x.name,
        vector("gamma", spec.gamma, 1),
        vector("beta", spec.beta, 0),
        vector("moving_mean", spec.mean, 0),
        vector("moving_variance", spec.variance, 1),
      ],
      { epsilon: { float: spec.epsilon } },
    );
    return { name: y, shape: x.shape };
  }

  relu(x: Value): Value {
    return { name: this.g.op("Relu", [x.name]), shape: x.shape };
  }

  /** min(max(x, 0), cap): ReLU6 and Keras ReLU(max_value). */
  clip(x: Value, cap: number): Value {
    const y = this.g.op("Clip", [x.name, this.g.scalar(0), this.g.scalar(cap)]);
    return { name: y, shape: x.shape };
  }

  /** Elementwise with a same-shaped value or a scalar constant. */
  binary(op: "Add" | "Sub" | "Mul" | "Div", a: Value, b: Value | number): Value {
    const other = typeof b === "number" ? this.g.scalar(b) : b.name;
    if (typeof b !== "number" && b.shape.join() !== a.shape.join()) {
      throw new Error(`${op}: shapes [${a.shape}] and [${b.shape}] differ`);
    }
    return { name: this.g.op(op, [a.name, other]), shape: a.shape };
  }

  /** Channel concatenation of NCHW values. */
  concat(xs: Value[]): Value {
    const first = xs[0];
    if (!first) throw new Error("concat of nothing");
    for (const x of xs) {
      if (at(x.shape, 2) !== at(first.shape, 2) || at(x.shape, 3) !== at(first.shape, 3)) {
        throw new Error(`concat: spatial shapes differ ([${first.shape}], [${x.shape}])`);
      }
    }
    const channels = xs.reduce((sum, x) => sum + at(x.shape, 1), 0);
    const y = this.g.op(
      "Concat",
      xs.map((x) => x.name),
      { axis: 1 },
    );
    return { name: y, shape: [-1, channels, at(first.shape, 2), at(first.shape, 3)] };
  }

  /** Zero padding [[top, bottom], [left, right]]. */
  pad(x: Value, [[top, bottom], [left, right]]: [[number, number], [number, number]]): Value {
    const pads = this.g.ints(`pads_${this.pads++}`, [0, 0, top, left, 0, 0, bottom, right]);
    const [c, h, w] = [1, 2, 3].map((i) => at(x.shape, i));
    return {
      name: this.g.op("Pad", [x.name, pads]),
      shape: [-1, c!, h! + top + bottom, w! + left + right],
    };
  }

  /**
   * Max or average pooling with TensorFlow's padding; an average over a SAME window at the border
   * counts only the real pixels (ONNX count_include_pad = 0), as TensorFlow does.
   */
  pool(
    kind: "MaxPool" | "AveragePool",
    x: Value,
    size: [number, number],
    strides: [number, number],
    padding: Padding,
  ): Value {
    const rows = tfPadding(at(x.shape, 2), size[0], strides[0], 1, padding);
    const cols = tfPadding(at(x.shape, 3), size[1], strides[1], 1, padding);
    const y = this.g.op(kind, [x.name], {
      kernel_shape: size,
      strides,
      pads: [rows.before, cols.before, rows.after, cols.after],
    });
    return { name: y, shape: [-1, at(x.shape, 1), rows.output, cols.output] };
  }

  /** NCHW -> [batch, H * W * C] in TensorFlow's (NHWC) order, as Flatten and Squeeze give it. */
  flatten(x: Value): Value {
    const [c, h, w] = [1, 2, 3].map((i) => at(x.shape, i));
    const nhwc =
      h === 1 && w === 1 ? x.name : this.g.op("Transpose", [x.name], { perm: [0, 2, 3, 1] });
    return { name: this.g.op("Flatten", [nhwc], { axis: 1 }), shape: [-1, c! * h! * w!] };
  }

  /** x [batch, in] times kernel [in, units] plus bias. */
  dense(
    x: Value,
    name: string,
    kernel: { shape: number[]; values: Float32Array },
    bias?: Float32Array,
  ): Value {
    const [inputs, units] = [at(kernel.shape, 0), at(kernel.shape, 1)];
    if (inputs !== at(x.shape, 1))
      throw new Error(`${name}: kernel takes ${inputs} features, got [${x.shape}]`);
    let y = this.g.op("MatMul", [x.name, this.g.constant(name, kernel.values, [inputs, units])]);
    if (bias) y = this.g.op("Add", [y, this.g.constant(`${name}/bias`, bias, [units])]);
    return { name: y, shape: [-1, units] };
  }

  softmax(x: Value, name?: string): Value {
    return { name: this.g.op("Softmax", [x.name], { axis: -1 }, name), shape: x.shape };
  }

  /** Marks `x` as the graph's [batch, classes] float32 output `name`. */
  output(x: Value, name: string): void {
    const y = x.name === name ? name : this.g.op("Identity", [x.name], {}, name);
    this.g.output({ name: y, type: "float32", shape: ["batch", at(x.shape, 1)] });
  }
}
