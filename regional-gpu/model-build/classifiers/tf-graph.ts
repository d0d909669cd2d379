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
  const values = new Map<string, Value>();
  const inputsOf = (node: NodeDef) =>
    (node.input ?? []).filter((i) => !i.startsWith("^")).map((i) => i.replace(/:0$/, ""));
  const constant = (name: string): Weight => {
    const weight = weights.get(name);
    if (!weight) throw new Error(`constant ${name} has no weights`);
    return weight;
  };
  const isConstant = (name: string) => nodes.get(name)?.op === "Const";

  const emit = (name: string): Value => {
    const known = values.get(name);
    if (known) return known;
    const node = nodes.get(name);
    if (!node) throw new Error(`graph has no node ${name}`);
    const value = emitNode(node);
    values.set(name, value);
    return value;
  };

  const activate = (x: Value, activation: "Relu" | "Relu6" | null) =>
    activation === "Relu" ? net.relu(x) : activation === "Relu6" ? net.clip(x, 6) : x;

  const elementwise = (node: NodeDef, op: "Add" | "Sub" | "Mul" | "Div"): Value => {
    const [a, b] = inputsOf(node) as [string, string];
    const scalar = (n: string) => {
      const w = constant(n);
      if (w.values.length !== 1) throw new Error(`${node.name}: only scalar constants are supported`);
      return w.values[0]!;
    };
    if (!isConstant(a)) return net.binary(op, emit(a), isConstant(b) ? scalar(b) : emit(b));
    if (isConstant(b)) throw new Error(`${node.name}: constant folding is not supported`);
    if (op === "Add" || op === "Mul") return net.binary(op, emit(b), scalar(a));
    const x = emit(b);
    return { name: net.g.op(op, [net.g.scalar(scalar(a)), x.name]), shape: x.shape };
  };

  const conv = (node: NodeDef, depthwise: boolean): Value => {
    checkNhwc(node);
    const [x, kernel, bias] = inputsOf(node) as [string, string, string];
    const activation = fusedActivation(node);
    const y = net.conv(emit(x), {
      name: kernel,
      kernel: constant(kernel),
      depthwise,
      bias: constant(bias).values,
      strides: spatial(node, "strides", 1),
      dilations: spatial(node, "dilations", 1),
      padding: paddingOf(node),
    });
    return activate(y, activation);
  };

  function emitNode(node: NodeDef): Value {
    const attr = node.attr ?? {};
    switch (node.op) {
      case "Placeholder":
        return net.pixelsInput(io.input, io.side);
      case "Identity":
        return emit(inputsOf(node)[0]!);
      case "Mul":
        return elementwise(node, "Mul");
      case "Sub":
        return elementwise(node, "Sub");
      case "AddV2":
      case "Add":
        return elementwise(node, "Add");
      case "RealDiv":
        return elementwise(node, "Div");
      case "Relu":
        return net.relu(emit(inputsOf(node)[0]!));
      case "Relu6":
        return net.clip(emit(inputsOf(node)[0]!), 6);
      case "_FusedConv2D":
        return conv(node, false);
      case "FusedDepthwiseConv2dNative":
        return conv(node, true);
      case "AvgPool":
      case "MaxPool": {
        checkNhwc(node);
        const kind = node.op === "AvgPool" ? "AveragePool" : "MaxPool";
        const size = spatial(node, "ksize", 1);
        const x = emit(inputsOf(node)[0]!);
        return net.pool(kind, x, size, spatial(node, "strides", 1), paddingOf(node));
      }
      case "Squeeze": {
        const x = emit(inputsOf(node)[0]!);
        const dims = ints(attr, "squeeze_dims");
        if (dims.join() !== "1,2" || x.shape[2] !== 1 || x.shape[3] !== 1) {
          throw new Error(`${node.name}: only squeezing a 1x1 NHWC map to [batch, C] is supported`);
        }
        return net.flatten(x);
      }
      case "_FusedMatMul": {
        if (attr.transpose_a?.b || attr.transpose_b?.b) {
          throw new Error(`${node.name}: transposed MatMul operands are not supported`);
        }
        const [x, kernel, bias] = inputsOf(node) as [string, string, string];
        const activation = fusedActivation(node);
        return activate(net.dense(emit(x), kernel, constant(kernel), constant(bias).values), activation);
      }
      case "Softmax":
        return net.softmax(emit(inputsOf(node)[0]!));
      default:
        throw new Error(`${node.name}: TensorFlow op ${node.op} is not supported`);
    }
  }

  const consumed = new Set([...nodes.values()].flatMap(inputsOf));
  const sinks = [...nodes.values()].filter((n) => n.op !== "Const" && !consumed.has(n.name));
  if (sinks.length !== 1) throw new Error(`graph has ${sinks.length} outputs, expected one`);
  net.output(emit(sinks[0]!.name), io.output);
}
