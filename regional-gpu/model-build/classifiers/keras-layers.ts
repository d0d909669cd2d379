import { z } from "zod";
import { NchwNet, type Padding, type Value } from "./nchw-net.ts";
import type { Weight } from "./nsfwjs-bundle.ts";

// A Keras functional model as tfjs's layers format stores it (model_config: layers with inbound
// nodes, channels_last) emitted as ONNX, for the layer types nsfwjs's Keras classifiers use
// (InceptionV3, MobileNetV2). Anything else fails the build naming the layer.

const Layer = z.object({
  name: z.string(),
  class_name: z.string(),
  config: z.record(z.string(), z.any()),
  inbound_nodes: z.array(z.array(z.tuple([z.string(), z.number(), z.number()]).rest(z.any()))),
});
type Layer = z.infer<typeof Layer>;

const ModelConfig = z.object({
  class_name: z.string(),
  config: z.object({
    layers: z.array(Layer),
    output_layers: z.array(z.tuple([z.string(), z.number(), z.number()])),
  }),
});

type Config = Layer["config"];
const pair = (v: unknown, name: string): [number, number] => {
  if (Array.isArray(v) && v.length === 2 && v.every(Number.isInteger)) return v as [number, number];
  throw new Error(`${name}: expected two integers, got ${JSON.stringify(v)}`);
};
const paddingOf = (config: Config, layer: string): Padding => {
  if (config.padding === "same" || config.padding === "valid") return config.padding;
  throw new Error(`${layer}: padding ${JSON.stringify(config.padding)} is not supported`);
};

function checkChannelsLast(layer: Layer): void {
  const format = layer.config.data_format;
  if (format !== undefined && format !== "channels_last") {
    throw new Error(`${layer.name}: data_format ${format} is not supported`);
  }
}

interface Context {
  net: NchwNet;
  weights: ReadonlyMap<string, Weight>;
  io: { input: string; output: string; side: number };
}

const weightOf = ({ weights }: Context, layer: string, name: string): Weight => {
  const found = weights.get(`${layer}/${name}`);
  if (!found) throw new Error(`${layer}: no weight ${name}`);
  return found;
};

function activate(net: NchwNet, x: Value, activation: unknown, layer: string): Value {
  switch (activation) {
    case undefined:
    case "linear":
      return x;
    case "relu":
      return net.relu(x);
    case "relu6":
      return net.clip(x, 6);
    case "softmax":
      return net.softmax(x);
    default:
      throw new Error(`${layer}: activation ${JSON.stringify(activation)} is not supported`);
  }
}

function conv(ctx: Context, layer: Layer, x: Value): Value {
  const { config, name } = layer;
  checkChannelsLast(layer);
  const depthwise = layer.class_name === "DepthwiseConv2D";
  if (depthwise && config.depth_multiplier !== 1) {
    throw new Error(`${name}: depth_multiplier ${config.depth_multiplier} is not supported`);
  }
  const bias = config.use_bias ? weightOf(ctx, name, "bias").values : undefined;
  const y = ctx.net.conv(x, {
    name: `${name}/kernel`,
    kernel: weightOf(ctx, name, depthwise ? "depthwise_kernel" : "kernel"),
    depthwise,
    ...(bias && { bias }),
    strides: pair(config.strides, `${name}.strides`),
    dilations: pair(config.dilation_rate ?? [1, 1], `${name}.dilation_rate`),
    padding: paddingOf(config, name),
  });
  return activate(ctx.net, y, config.activation, name);
}

function batchNorm(ctx: Context, { config, name }: Layer, x: Value): Value {
  if (config.axis !== -1 && config.axis !== 3) {
    throw new Error(`${name}: batch normalization over axis ${config.axis} is not supported`);
  }
  const gamma = config.scale ? weightOf(ctx, name, "gamma").values : undefined;
  const beta = config.center ? weightOf(ctx, name, "beta").values : undefined;
  return ctx.net.batchNorm(x, {
    name,
    mean: weightOf(ctx, name, "moving_mean").values,
    variance: weightOf(ctx, name, "moving_variance").values,
    epsilon: Number(config.epsilon),
    ...(gamma && { gamma }),
    ...(beta && { beta }),
  });
}

function pool(net: NchwNet, layer: Layer, x: Value): Value {
  const { config, name } = layer;
  checkChannelsLast(layer);
  const kind = layer.class_name === "MaxPooling2D" ? "MaxPool" : "AveragePool";
  const size = pair(config.pool_size, `${name}.pool_size`);
  const strides = pair(config.strides ?? size, `${name}.strides`);
  return net.pool(kind, x, size, strides, paddingOf(config, name));
}

function relu(net: NchwNet, { config, name }: Layer, x: Value): Value {
  if ((config.negative_slope ?? 0) !== 0 || (config.threshold ?? 0) !== 0) {
    throw new Error(`${name}: leaky or thresholded ReLU is not supported`);
  }
  return config.max_value == null ? net.relu(x) : net.clip(x, Number(config.max_value));
}

function emitLayer(ctx: Context, layer: Layer, inputs: Value[]): Value {
  const { net } = ctx;
  const { config, name } = layer;
  const x = inputs[0]!;
  switch (layer.class_name) {
    case "InputLayer":
      return net.pixelsInput(ctx.io.input, ctx.io.side);
    case "Conv2D":
    case "DepthwiseConv2D":
      return conv(ctx, layer, x);
    case "BatchNormalization":
      return batchNorm(ctx, layer, x);
    case "Activation":
      return activate(net, x, config.activation, name);
    case "ReLU":
      return relu(net, layer, x);
    case "ZeroPadding2D": {
      checkChannelsLast(layer);
      const [rows, cols] = config.padding as [unknown, unknown];
      return net.pad(x, [pair(rows, `${name}.padding`), pair(cols, `${name}.padding`)]);
    }
    case "MaxPooling2D":
    case "AveragePooling2D":
      return pool(net, layer, x);
    case "Add":
      return inputs.slice(1).reduce((sum, v) => net.binary("Add", sum, v), x);
    case "Concatenate":
      if (config.axis !== -1 && config.axis !== 3) {
        throw new Error(`${name}: concatenation over axis ${config.axis} is not supported`);
      }
      return net.concat(inputs);
    case "Flatten":
      checkChannelsLast(layer);
      return net.flatten(x);
    case "Dense": {
      const bias = config.use_bias ? weightOf(ctx, name, "bias").values : undefined;
      const y = net.dense(x, `${name}/kernel`, weightOf(ctx, name, "kernel"), bias);
      return activate(net, y, config.activation, name);
    }
    case "Dropout":
      return x;
    default:
      throw new Error(`${name}: Keras layer ${layer.class_name} is not supported`);
  }
}

/** Emits the model into `net`: its input becomes uint8 NHWC `io.input`, its output `io.output`. */
export function emitKerasModel(
  net: NchwNet,
  topology: Record<string, unknown>,
  weights: ReadonlyMap<string, Weight>,
  io: Context["io"],
): void {
  const model = ModelConfig.parse(topology.model_config ?? topology);
  const ctx: Context = { net, weights, io };
  const values = new Map<string, Value>();
  for (const layer of model.config.layers) {
    if (layer.inbound_nodes.length > 1) {
      throw new Error(`${layer.name}: shared layers are not supported`);
    }
    const inputs = (layer.inbound_nodes[0] ?? []).map(([source]) => {
      const value = values.get(source);
      if (!value) throw new Error(`${layer.name}: input ${source} is not emitted yet`);
      return value;
    });
    values.set(layer.name, emitLayer(ctx, layer, inputs));
  }
  const outputs = model.config.output_layers;
  const last = outputs[0] && values.get(outputs[0][0]);
  if (outputs.length !== 1 || !last) throw new Error("the model must have exactly one output");
  net.output(last, io.output);
}
