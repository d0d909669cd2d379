import onnxProto from "onnx-proto";
import {
  invariantMatMul,
  invariantSquaredNorm,
} from "../../regional-gpu/model-build/batch-invariant.ts";
import { GraphBuilder } from "../../regional-gpu/model-build/onnx-graph.ts";

// The trained part of a cppn-text2img version, spliced into its parent's graph: the parent's unit
// text vector u (the value named "text_unit", which drives the latent and the palette) becomes
//   u' = normalize(u + u W + b)
// with W [D, D] and b [D] from flywheel/train. Everything else (embedding table, CPPN weights,
// palette anchors) is the parent's, byte for byte. The head is batch-invariant like the rest of
// the graph (regional-gpu/model-build/batch-invariant.ts).

const { onnx } = onnxProto;

/** The value the head replaces: the parent's unit text vector [batch, D]. */
export const TEXT_UNIT = "text_unit";
/** A trained version's parent may itself be trained: each head gets its own names (n = 0, 1, ...). */
const parentTextUnit = (n: number) => (n === 0 ? "parent_text_unit" : `parent_text_unit_${n}`);
const prefixOf = (n: number) => (n === 0 ? "prompt_head/" : `prompt_head_${n}/`);
const EPS = 1e-6;

export interface PromptHead {
  dims: number;
  /** Row-major [D, D]: u W. */
  weights: Float32Array;
  bias: Float32Array;
}

function decode(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

function textUnitProducer(graph: onnxProto.onnx.IGraphProto): number {
  const index = (graph.node ?? []).findIndex((n) => n.output?.includes(TEXT_UNIT));
  if (index < 0)
    throw new Error(`the parent graph has no "${TEXT_UNIT}" value: not a cppn-glove graph`);
  return index;
}

/** How many heads `graph` already has. */
function headsIn(graph: onnxProto.onnx.IGraphProto): number {
  const names = new Set((graph.node ?? []).flatMap((n) => n.output ?? []));
  let n = 0;
  while (names.has(parentTextUnit(n))) n++;
  return n;
}

/** The head's nodes and initializers, names prefixed, from the parent's text vector to text_unit. */
function headGraph(head: PromptHead, n: number): onnxProto.onnx.IGraphProto {
  const PARENT_TEXT_UNIT = parentTextUnit(n);
  const PREFIX = prefixOf(n);
  const { dims } = head;
  if (head.weights.length !== dims * dims || head.bias.length !== dims) {
    throw new Error(`prompt head: expected W ${dims}x${dims} and b ${dims}`);
  }
  const g = new GraphBuilder();
  const u = g.input({ name: PARENT_TEXT_UNIT, type: "float32", shape: ["batch", dims] });
  const moved = g.op("Add", [
    g.op("Add", [u, invariantMatMul(g, u, "w", head.weights, dims, dims)]),
    g.constant("b", head.bias, [dims]),
  ]);
  const norm = g.op("Sqrt", [
    g.op("Add", [invariantSquaredNorm(g, moved, "ones", dims), g.scalar(EPS, "eps")]),
  ]);
  g.op("Div", [moved, norm], {}, TEXT_UNIT);
  g.output({ name: TEXT_UNIT, type: "float32", shape: ["batch", dims] });
  const encoded = g.encode({
    graphName: "prompt_head",
    producerName: "genart-edge flywheel",
    producerVersion: "1",
    docString: "",
    opset: 17,
    irVersion: 8,
  });
  const graph = decode(encoded).graph!;
  const keep = new Set([PARENT_TEXT_UNIT, TEXT_UNIT, ""]);
  const rename = (name: string) => (keep.has(name) ? name : `${PREFIX}${name}`);
  for (const node of graph.node ?? []) {
    node.name = `${PREFIX}${node.name}`;
    node.input = (node.input ?? []).map(rename);
    node.output = (node.output ?? []).map(rename);
  }
  for (const init of graph.initializer ?? []) init.name = rename(init.name!);
  return graph;
}

/**
 * `parent` (model.onnx bytes of a cppn-text2img version) with `head` applied to its text vector:
 * the trained version's model.onnx. Deterministic: the same parent and head give the same bytes.
 */
export function withPromptHead(
  parent: Uint8Array,
  head: PromptHead,
  producerVersion: string,
): Uint8Array {
  const model = decode(parent);
  const graph = model.graph!;
  const at = textUnitProducer(graph);
  const n = headsIn(graph);
  const producer = graph.node![at]!;
  producer.output = producer.output!.map((o) => (o === TEXT_UNIT ? parentTextUnit(n) : o));
  const added = headGraph(head, n);
  graph.node!.splice(at + 1, 0, ...(added.node ?? []));
  graph.initializer = [...(graph.initializer ?? []), ...(added.initializer ?? [])];
  model.producerVersion = producerVersion;
  return onnx.ModelProto.encode(model).finish();
}

/** `model` with its text vector as an extra graph output: what the trainer encodes prompts with. */
export function withTextUnitOutput(model: Uint8Array, dims: number): Uint8Array {
  const decoded = decode(model);
  const graph = decoded.graph!;
  textUnitProducer(graph);
  graph.output = [
    ...(graph.output ?? []),
    {
      name: TEXT_UNIT,
      type: {
        tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch" }, { dimValue: dims }] } },
      },
    },
  ];
  return onnx.ModelProto.encode(decoded).finish();
}
