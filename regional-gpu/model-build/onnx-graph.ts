import { endianness } from "node:os";
import onnxProto from "onnx-proto";
import type { TensorSpec, TensorType } from "../../contracts/model-manifest.ts";

// A small builder for ONNX graphs: named initializers, nodes with typed attributes, symbolic-shape
// inputs/outputs, encoded to ModelProto bytes. Encoding is deterministic (fields in tag order, no
// timestamps), so the same graph always gives the same bytes.

const { onnx } = onnxProto;

const DATA_TYPE: Record<TensorType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

export type InitializerData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

export type AttributeValue = number | number[] | { float: number };

const ATTRIBUTE = { FLOAT: 1, INT: 2, INTS: 7 } as const;

function tensorType(data: InitializerData): TensorType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof Int32Array) return "int32";
  return "int64";
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  if (Array.isArray(value)) return { name, type: ATTRIBUTE.INTS, ints: value };
  if (typeof value === "number") {
    if (!Number.isInteger(value))
      throw new Error(`attribute ${name}: use { float } for non-integers`);
    return { name, type: ATTRIBUTE.INT, i: value };
  }
  return { name, type: ATTRIBUTE.FLOAT, f: value.float };
}

function valueInfo(spec: TensorSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: spec.name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[spec.type],
        shape: {
          dim: spec.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

export interface ModelInfo {
  graphName: string;
  producerName: string;
  producerVersion: string;
  docString: string;
  opset: number;
  irVersion: number;
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: TensorSpec[] = [];
  private readonly outputs: TensorSpec[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor() {
    // raw_data is little-endian by definition; typed arrays use the host's byte order.
    if (endianness() !== "LE") throw new Error("ONNX raw_data encoding needs a little-endian host");
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`duplicate graph value name: ${name}`);
    this.names.add(name);
    return name;
  }

  input(spec: TensorSpec): string {
    this.inputs.push(spec);
    return this.claim(spec.name);
  }

  /** Marks an existing value as a graph output (its producer must have used the same name). */
  output(spec: TensorSpec): void {
    if (!this.names.has(spec.name)) throw new Error(`output ${spec.name} is not produced`);
    this.outputs.push(spec);
  }

  constant(name: string, data: InitializerData, dims: readonly number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`${name}: dims ${dims} do not hold ${data.length}`);
    this.initializers.push({
      name: this.claim(name),
      dims: [...dims],
      dataType: DATA_TYPE[tensorType(data)],
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** A float32 scalar constant. */
  scalar(value: number, name = `scalar_${this.counter++}`): string {
    return this.constant(name, Float32Array.of(value), []);
  }

  ints(name: string, values: readonly number[]): string {
    return this.constant(name, BigInt64Array.from(values, BigInt), [values.length]);
  }

  /** Adds a one-output node; returns its output name (`name` or a generated one). */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    name?: string,
  ): string {
    const output = name ?? `${opType.toLowerCase()}_${this.counter++}`;
    return this.opWithOutputs(opType, inputs, [output], attributes)[0]!;
  }

  /** Adds a node with several named outputs (e.g. TopK's values and indices). */
  opWithOutputs(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
  ): string[] {
    for (const input of inputs) {
      if (input !== "" && !this.names.has(input))
        throw new Error(`${opType}: unknown input ${input}`);
    }
    outputs.forEach((o) => this.claim(o));
    this.nodes.push({
      name: `${outputs[0]}_node`,
      opType,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return [...outputs];
  }

  encode(info: ModelInfo): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: info.irVersion,
      producerName: info.producerName,
      producerVersion: info.producerVersion,
      docString: info.docString,
      opsetImport: [{ domain: "", version: info.opset }],
      graph: {
        name: info.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
