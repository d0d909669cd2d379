import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { InceptionV3Model } from "nsfwjs/models/inception_v3";
import { MobileNetV2Model } from "nsfwjs/models/mobilenet_v2";
import { MobileNetV2MidModel } from "nsfwjs/models/mobilenet_v2_mid";
import { z } from "zod";
import type { ClassifierModel } from "../../moderation/classifier-options.ts";

// The published nsfwjs classifiers as the npm package bundles them (JS modules holding the tfjs
// model.json and base64 weight shards), read without TensorFlow.js: topology as JSON, weights
// dequantized exactly as tfjs does (`q * scale + min`, stored as float32). Nothing is fetched.

/** What nsfwjs's model modules export (declared here: the package's own types pull in tfjs). */
interface BundledDefinition {
  name: string;
  numOfWeightBundles: number;
  options?: { size?: number; type?: string };
  modelJson(): Promise<{ default: unknown }>;
  weightBundles: (() => Promise<{ default: string }>)[];
}

const DEFINITIONS: Record<ClassifierModel, BundledDefinition> = {
  MobileNetV2Mid: MobileNetV2MidModel as BundledDefinition,
  MobileNetV2: MobileNetV2Model as BundledDefinition,
  InceptionV3: InceptionV3Model as BundledDefinition,
};

const WeightSpec = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.literal("float32"),
  quantization: z
    .object({
      dtype: z.enum(["uint8", "uint16", "float16"]),
      min: z.number().optional(),
      scale: z.number().optional(),
    })
    .optional(),
});
type WeightSpec = z.infer<typeof WeightSpec>;

const ModelJson = z.object({
  format: z.string().optional(),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()), weights: z.array(WeightSpec) })),
});

export interface Weight {
  shape: number[];
  values: Float32Array;
}

export interface NsfwjsArtifacts {
  model: ClassifierModel;
  /** "graph-model" (a frozen TensorFlow graph) or "layers-model" (a Keras model). */
  format: "graph-model" | "layers-model";
  topology: Record<string, unknown>;
  weights: Map<string, Weight>;
}

/** The installed nsfwjs version (its exports map hides package.json). */
export function nsfwjsVersion(): string {
  const entry = createRequire(import.meta.url).resolve("nsfwjs");
  const pkg = JSON.parse(readFileSync(join(dirname(entry), "..", "..", "package.json"), "utf8"));
  return String(pkg.version);
}

const float16 = (bits: number): number => {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
};

/** One weight's float32 values from its bytes, as tfjs's io.decodeWeights computes them. */
function decodeWeight(spec: WeightSpec, bytes: Buffer, offset: number): [Float32Array, number] {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  const q = spec.quantization;
  if (!q) {
    for (let i = 0; i < size; i++) values[i] = bytes.readFloatLE(offset + 4 * i);
    return [values, offset + 4 * size];
  }
  if (q.dtype === "float16") {
    for (let i = 0; i < size; i++) values[i] = float16(bytes.readUInt16LE(offset + 2 * i));
    return [values, offset + 2 * size];
  }
  if (q.min === undefined || q.scale === undefined) {
    throw new Error(`weight ${spec.name}: ${q.dtype} quantization without min and scale`);
  }
  const width = q.dtype === "uint8" ? 1 : 2;
  for (let i = 0; i < size; i++) {
    const v = width === 1 ? bytes[offset + i]! : bytes.readUInt16LE(offset + 2 * i);
    values[i] = v * q.scale + q.min;
  }
  return [values, offset + width * size];
}

/** Reads a bundled classifier: its topology and every weight, dequantized. */
export async function readNsfwjsModel(model: ClassifierModel): Promise<NsfwjsArtifacts> {
  const definition = DEFINITIONS[model];
  const json = ModelJson.parse((await definition.modelJson()).default);
  const shards = new Map<string, Buffer>();
  const n = definition.numOfWeightBundles;
  for (const [i, load] of definition.weightBundles.entries()) {
    shards.set(`group1-shard${i + 1}of${n}`, Buffer.from((await load()).default, "base64"));
  }
  const weights = new Map<string, Weight>();
  for (const group of json.weightsManifest) {
    const bytes = Buffer.concat(
      group.paths.map((path) => {
        const shard = shards.get(path);
        if (!shard) throw new Error(`nsfwjs ${model}: weight shard ${path} is not bundled`);
        return shard;
      }),
    );
    let offset = 0;
    for (const spec of group.weights) {
      const [values, next] = decodeWeight(spec, bytes, offset);
      weights.set(spec.name, { shape: spec.shape, values });
      offset = next;
    }
    if (offset !== bytes.byteLength) {
      throw new Error(`nsfwjs ${model}: ${bytes.byteLength - offset} weight bytes left unread`);
    }
  }
  const format = json.format === "graph-model" ? "graph-model" : "layers-model";
  return { model, format, topology: json.modelTopology, weights };
}
