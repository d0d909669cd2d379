import {
  CLASSIFIER_IO,
  CLASSIFIER_SIDE,
  type ClassifierModel,
} from "../../moderation/classifier-options.ts";
import { GraphBuilder } from "../onnx-graph.ts";
import { emitKerasModel } from "./keras-layers.ts";
import { NchwNet } from "./nchw-net.ts";
import { readNsfwjsModel } from "./nsfwjs-bundle.ts";
import { emitTfGraph } from "./tf-graph.ts";

// One nsfwjs classifier as an ONNX graph: uint8 NHWC pixels at the model's side -> the five class
// probabilities in nsfwjs's order. The preprocessing nsfwjs applies before its model (divide by 255)
// is part of the graph, so callers hand over the resized image's bytes as they are.

export const CLASSIFIER_OPSET = 17;
const IR_VERSION = 8;

export async function buildClassifierGraph(
  model: ClassifierModel,
  producerVersion: string,
): Promise<Uint8Array> {
  const artifacts = await readNsfwjsModel(model);
  const g = new GraphBuilder();
  const net = new NchwNet(g);
  const io = { ...CLASSIFIER_IO, side: CLASSIFIER_SIDE[model] };
  if (artifacts.format === "graph-model") {
    emitTfGraph(net, artifacts.topology, artifacts.weights, io);
  } else {
    emitKerasModel(net, artifacts.topology, artifacts.weights, io);
  }
  return g.encode({
    graphName: `nsfwjs-${model}`,
    producerName: "genart-edge model-build",
    producerVersion,
    docString: `nsfwjs ${model} (${artifacts.format}) converted from the package's bundled weights`,
    opset: CLASSIFIER_OPSET,
    irVersion: IR_VERSION,
  });
}
