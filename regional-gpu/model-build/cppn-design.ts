import type { TensorSpec } from "../../contracts/model-manifest.ts";

// The reference model's interface and the knobs its weights are drawn with. Changing any value
// changes model.onnx: bump MODEL_VERSION in build-reference-model.ts with it.

export const CPPN_IO = {
  tokens: { name: "token_ids", type: "int64", shape: ["batch", "tokens"] },
  negativeTokens: { name: "negative_token_ids", type: "int64", shape: ["batch", "neg_tokens"] },
  noise: { name: "noise", type: "float32", shape: ["batch", 16] },
  coords: { name: "coords", type: "float32", shape: ["pixels", 3] },
  image: { name: "image", type: "uint8", shape: ["batch", "pixels", 3] },
} as const satisfies Record<string, TensorSpec>;

/** Latent and palette-ramp widths: the CPPN's style vector is their concatenation. */
export const STYLE_LATENT = 32;
export const STYLE_RAMP_STOPS = 6;
export const STYLE_VECTOR_DIMS = STYLE_LATENT + STYLE_RAMP_STOPS * 3;

/**
 * The style-capable versions' extra tensors: a style vector (latent then palette ramp, row-major
 * RGB in 0..1) blended into the prompt's by a per-image strength, and the vector each image was
 * drawn with (what a later request can reference).
 */
export const CPPN_STYLE_IO = {
  style: { name: "style", type: "float32", shape: ["batch", STYLE_VECTOR_DIMS] },
  strength: { name: "style_strength", type: "float32", shape: ["batch", 1] },
  vector: { name: "style_vector", type: "float32", shape: ["batch", STYLE_VECTOR_DIMS] },
} as const satisfies Record<string, TensorSpec>;

export interface RampStop {
  /** Which anchor: 0 = the one most similar to the prompt. */
  rank: number;
  /** Colour = gain * anchor colour + lift (lift > 0 mixes towards white). */
  gain: number;
  lift: number;
}

export interface CppnDesign {
  latent: number;
  hidden: number;
  /** How much of the negative prompt's mean is subtracted from the prompt's. */
  negativeScale: number;
  /** Size of the seed's contribution to the latent relative to the prompt's (unit variance). */
  noiseScale: number;
  /** Std of the seed's pull on anchor similarities; only applies when no prompt word is known. */
  blankPaletteNoise: number;
  /** Spatial frequency of the first layer. */
  coordScale: number;
  /** How much the latent rescales first-layer frequencies (0 = not at all). */
  frequencyModulation: number;
  /** Gain of the hidden-to-hidden layers (1.5 to 2: rich but still smooth fields). */
  hiddenGain: number;
  /** How fast the colour ramp folds across the field (more = more bands). */
  bandFrequency: number;
  /** Strength of the light/shade term. */
  shading: number;
  /** The palette ramp, in order; the field moves along it, lingering longest at both ends. */
  ramp: readonly RampStop[];
}

// Tuned by eye on renders and by measurement (see the test suite): a latent change the size of
// "red sunset over the sea" -> "crimson sunset above the ocean" keeps the field correlated (~0.5),
// a seed change more so (~0.8), an unrelated prompt not (~0.1).
export const REFERENCE_DESIGN: CppnDesign = {
  latent: 32,
  hidden: 32,
  negativeScale: 0.6,
  noiseScale: 0.2,
  blankPaletteNoise: 0.1,
  coordScale: 3,
  frequencyModulation: 0.5,
  hiddenGain: 1.6,
  bandFrequency: 3.5,
  shading: 0.25,
  // Ends: the two closest anchors as large fields; between them thin bands of a shadow, the third
  // and fourth anchors and a light glow.
  ramp: [
    { rank: 0, gain: 1, lift: 0 },
    { rank: 0, gain: 0.45, lift: 0 },
    { rank: 2, gain: 1, lift: 0 },
    { rank: 1, gain: 0.4, lift: 0.6 },
    { rank: 3, gain: 0.9, lift: 0 },
    { rank: 1, gain: 0.9, lift: 0 },
  ],
};
