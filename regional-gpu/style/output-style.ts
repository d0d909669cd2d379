import type { ModelManifest } from "../../contracts/model-manifest.ts";
import type { StyleEmbeddingPayload, StyleVectorPayload } from "../../contracts/region-protocol.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import { STYLE_DESCRIPTOR } from "../../contracts/style.ts";
import { styleEmbedding } from "./style-descriptor.ts";

// What a `succeeded` event says about an output's style: its embedding (from the pixels, for
// search) and, from models with a style output, the vector it was drawn with (for references).

/** float32 values as JSON numbers: 9 significant digits give back the same float32 exactly. */
export const float32Values = (values: Float32Array): number[] =>
  Array.from(values, (x) => Number(x.toPrecision(9)));

export function embeddingPayload(values: Float32Array): StyleEmbeddingPayload {
  return { descriptor: STYLE_DESCRIPTOR, values: float32Values(values) };
}

export function outputStyle(
  image: RawImage,
  manifest: ModelManifest,
): { style_embedding: StyleEmbeddingPayload; style_vector?: StyleVectorPayload } {
  const style_embedding = embeddingPayload(styleEmbedding(image));
  if (!manifest.style || !image.style) return { style_embedding };
  return {
    style_embedding,
    style_vector: { space: manifest.style.space, values: float32Values(image.style) },
  };
}
