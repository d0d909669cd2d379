import { z } from "zod";
import { NchwNet, type Padding, type Value } from "./nchw-net.ts";
import type { Weight } from "./nsfwjs-bundle.ts";

// A frozen TensorFlow graph as tfjs's converter writes it (graph-model: NodeDefs with tfjs's fused
// ops) emitted as ONNX, for the ops nsfwjs's graph classifiers use. An op or attribute outside that
// set fails the build naming it, rather than converting into something subtly different.

const NodeDef = z.object({
  name: z.string(),
  op: z.string(),
  input: z.array(z.string()).optional(),
  attr: z.record(z.string(), z.any()).optional(),
});
type NodeDef = z.infer<typeof NodeDef>;

const Topology = z.object({ node: z.array(NodeDef) });

type Attr = NonNullable<NodeDef["attr"]>;
const text = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
const ints = (attr: Attr, key: string): number[] =>
  ((attr[key]?.list?.i ?? []) as string[]).map(Number);
const str = (attr: Attr, key: string): string => (attr[key]?.s ? text(attr[key].s) : "");
const strs = (attr: Attr, key: string): string[] =>
  ((attr[key]?.list?.s ?? []) as string[]).map(text);

/** NHWC [1, a, b, 1] attribute (strides, ksize, dilations) -> [a, b]. */
function spatial(node: NodeDef, key: string, fallback: number): [number, number] {
  const v = ints(node.attr ?? {}, key);
  if (v.length === 0) return [fallback, fallback];
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) {
    throw new Error(`${node.name}: ${key} [${v}] is not [1, h, w, 1]`);
  }
  return [v[1]!, v[2]!];
}

function paddingOf(node: NodeDef): Padding {
  const padding = str(node.attr ?? {}, "padding");
  if (padding === "SAME") return "same";
  if (padding === "VALID") return "valid";
  throw new Error(`${node.name}: padding ${padding} is not supported`);
}

function checkNhwc(node: NodeDef): void {
  const format = str(node.attr ?? {}, "data_format");
  if (format !== "" && format !== "NHWC") throw new Error(`${node.name}: data_format ${format}`);
}

/** The fused activation after BiasAdd (tfjs's _FusedConv2D and friends). */
function fusedActivation(node: NodeDef): "Relu" | "Relu6" | null {
  const ops = strs(node.attr ?? {}, "fused_ops");
  if (ops[0] !== "BiasAdd" || ops.length > 2) {
    throw new Error(`${node.name}: fused ops [${ops}] are not supported`);
  }
  const activation = ops[1];
  if (activation === undefined) return null;
  if (activation === "Relu" || activation === "Relu6") return activation;
  throw new Error(`${node.name}: fused activation ${activation} is not supported`);
}

const inputsOf = (node: NodeDef) =>
  (node.input ?? []).filter((i) => !i.startsWith("^")).map((i) => i.replace(/:0$/, ""));

type Elementwise = "Add" | "Sub" | "Mul" | "Div";
const ELEMENTWISE: Record<string, Elementwise> = {
  Mul: "Mul",
  Sub: "Sub",
  AddV2: "Add",
  Add: "Add",
  RealDiv: "Div",
};

/** Emits each node once, on demand from the output back (depth first). */
class TfGraphEmitter {
  private readonly values = new Map<string, Value>();
  private readonly net: NchwNet;
  private readonly nodes: ReadonlyMap<string, NodeDef>;
  private readonly weights: ReadonlyMap<string, Weight>;
  private readonly io: { input: string; output: string; side: number };

  constructor(
    net: NchwNet,
    nodes: ReadonlyMap<string, NodeDef>,
    weights: ReadonlyMap<string, Weight>,
    io: { input: string; output: string; side: number },
  ) {
    this.net = net;
    this.nodes = nodes;
    this.weights = weights;
    this.io = io;
  }

  emit(name: string): Value {
    const known = this.values.get(name);
    if (known) return known;
    const node = this.nodes.get(name);
    if (!node) throw new Error(`graph has no node ${name}`);
    const value = this.node(node);
    this.values.set(name, value);
    return value;
  }

  private node(node: NodeDef): Value {
    const { net } = this;
    const first = () => this.emit(inputsOf(node)[0]!);
    const elementwise = ELEMENTWISE[node.op];
    if (elementwise) return this.elementwise(node, elementwise);
    switch (node.op) {
      case "Placeholder":
        return net.pixelsInput(this.io.input, this.io.side);
      case "Identity":
        return first();
      case "Relu":
        return net.relu(first());
      case "Relu6":
        return net.clip(first(), 6);
      case "_FusedConv2D":
        return this.conv(node, false);
      case "FusedDepthwiseConv2dNative":
        return this.conv(node, true);
      case "AvgPool":
      case "MaxPool":
        return this.pool(node);
      case "Squeeze":
        return this.squeeze(node);
      case "_FusedMatMul":
        return this.matMul(node);
      case "Softmax":
        return net.softmax(first());
      default:
        throw new Error(`${node.name}: TensorFlow op ${node.op} is not supported`);
    }
  }

  private constant(name: string): Weight {
    const weight = this.weights.get(name);
    if (!weight) throw new Error(`constant ${name} has no weights`);
    return weight;
  }

  private isConstant(name: string): boolean {
    return this.nodes.get(name)?.op === "Const";
  }

  private activate(x: Value, activation: "Relu" | "Relu6" | null): Value {
    if (activation === "Relu") return this.net.relu(x);
    return activation === "Relu6" ? this.net.clip(x, 6) : x;
  }

  /** Two activations, or an activation and a scalar constant (either side). */
  private elementwise(node: NodeDef, op: Elementwise): Value {
    const { net } = this;
    const [a, b] = inputsOf(node) as [string, string];
    const scalar = (n: string) => {
      const w = this.constant(n);
      if (w.values.length !== 1)
        throw new Error(`${node.name}: only scalar constants are supported`);
      return w.values[0]!;
    };
    if (!this.isConstant(a)) {
      return net.binary(op, this.emit(a), this.isConstant(b) ? scalar(b) : this.emit(b));
    }
    if (this.isConstant(b)) throw new Error(`${node.name}: constant folding is not supported`);
    if (op === "Add" || op === "Mul") return net.binary(op, this.emit(b), scalar(a));
    const x = this.emit(b);
    return { name: net.g.op(op, [net.g.scalar(scalar(a)), x.name]), shape: x.shape };
  }

  private conv(node: NodeDef, depthwise: boolean): Value {
    checkNhwc(node);
    const [x, kernel, bias] = inputsOf(node) as [string, string, string];
    const activation = fusedActivation(node);
    const y = this.net.conv(this.emit(x), {
      name: kernel,
      kernel: this.constant(kernel),
      depthwise,
      bias: this.constant(bias).values,
      strides: spatial(node, "strides", 1),
      dilations: spatial(node, "dilations", 1),
      padding: paddingOf(node),
    });
    return this.activate(y, activation);
  }

  private pool(node: NodeDef): Value {
    checkNhwc(node);
    const kind = node.op === "AvgPool" ? "AveragePool" : "MaxPool";
    const x = this.emit(inputsOf(node)[0]!);
    const size = spatial(node, "ksize", 1);
    return this.net.pool(kind, x, size, spatial(node, "strides", 1), paddingOf(node));
  }

  private squeeze(node: NodeDef): Value {
    const x = this.emit(inputsOf(node)[0]!);
    const dims = ints(node.attr ?? {}, "squeeze_dims");
    if (dims.join() !== "1,2" || x.shape[2] !== 1 || x.shape[3] !== 1) {
      throw new Error(`${node.name}: only squeezing a 1x1 NHWC map to [batch, C] is supported`);
    }
    return this.net.flatten(x);
  }

  private matMul(node: NodeDef): Value {
    const attr = node.attr ?? {};
    if (attr.transpose_a?.b || attr.transpose_b?.b) {
      throw new Error(`${node.name}: transposed MatMul operands are not supported`);
    }
    const [x, kernel, bias] = inputsOf(node) as [string, string, string];
    const activation = fusedActivation(node);
    const y = this.net.dense(
      this.emit(x),
      kernel,
      this.constant(kernel),
      this.constant(bias).values,
    );
    return this.activate(y, activation);
  }
}

/**
 * Emits the graph into `net`: its placeholder becomes the uint8 NHWC input `io.input`, its one
 * sink (the node nothing consumes) the float32 output `io.output`.
 */
export function emitTfGraph(
  net: NchwNet,
  topology: unknown,
  weights: ReadonlyMap<string, Weight>,
  io: { input: string; output: string; side: number },
): void {
  const nodes = new Map(Topology.parse(topology).node.map((n) => [n.name, n]));
  const consumed = new Set([...nodes.values()].flatMap(inputsOf));
  const sinks = [...nodes.values()].filter((n) => n.op !== "Const" && !consumed.has(n.name));
  if (sinks.length !== 1) throw new Error(`graph has ${sinks.length} outputs, expected one`);
  const emitter = new TfGraphEmitter(net, nodes, weights, io);
  net.output(emitter.emit(sinks[0]!.name), io.output);
}
