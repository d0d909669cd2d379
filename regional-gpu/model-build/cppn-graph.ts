import { SeededRandom } from "../pipelines/seeded-random.ts";
import { invariantMatMul, invariantSquaredNorm } from "./batch-invariant.ts";
import { parseRgb, type ColourAnchor } from "./colour-anchors.ts";
import {
  CPPN_IO,
  CPPN_STYLE_IO,
  STYLE_LATENT,
  STYLE_RAMP_STOPS,
  type CppnDesign,
} from "./cppn-design.ts";
import type { QuantizedTable } from "./embedding-table.ts";
import { GraphBuilder } from "./onnx-graph.ts";

// The reference model: a CPPN (pixel coordinates + latent -> colour) conditioned on a prompt through
// word vectors. Nothing is trained; weights come from a seeded PRNG at scales chosen so that
//  - the text vector is the SIF-weighted mean of the prompt's word vectors minus a share of the
//    negative prompt's, normalized to unit length;
//  - the latent is a fixed random projection of that unit vector (similar prompts, similar structure)
//    plus a small seed-driven term (the seed varies details, not the overall look);
//  - the palette is built from the colour-anchor words most similar to the prompt (related prompts
//    share palettes), laid out as a ramp;
//  - the CPPN (tanh -> sin -> tanh, radial input, coordinate skip) gives a smooth scalar field that a
//    sin folds back and forth along the ramp: flowing contour bands, never a flat image.

export interface CppnInputs {
  table: QuantizedTable;
  dims: number;
  /** Unit-length processed vectors of the anchor words, in `anchors` order. */
  anchorVectors: readonly Float64Array[];
  anchors: readonly ColourAnchor[];
  weightSeed: number;
  design: CppnDesign;
  /**
   * Adds the style tensors (CPPN_STYLE_IO). Blending draws no weights, so every weight, and every
   * image of a request with strength 0, stays what the graph without them gives.
   */
  style?: boolean;
}

const EPS = 1e-6;

/** The builder plus the weight source; weights are drawn in graph order, so bytes are reproducible. */
class Weights {
  readonly g = new GraphBuilder();
  private readonly random: SeededRandom;

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }

  /** count values ~ N(0, std^2). */
  draw(count: number, std: number): Float32Array {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = this.random.nextNormal() * std;
    return values;
  }

  matrix(name: string, rows: number, cols: number, std: number): string {
    return this.g.constant(name, this.draw(rows * cols, std), [rows, cols]);
  }

  /** `x` [B, rows] times a fresh random [rows, cols] -> [B, cols], batch-invariant. */
  project(x: string, name: string, rows: number, cols: number, std: number): string {
    return invariantMatMul(this.g, x, name, this.draw(rows * cols, std), rows, cols);
  }
}

/** Unit text vector [B, D] and `blank` [B, 1]: 1 when no prompt word was known, else 0. */
function encodeText(w: Weights, inputs: CppnInputs, tokens: string, negativeTokens: string) {
  const { g } = w;
  const { table, dims, design } = inputs;
  const rows = table.weights.length;
  const eps = g.scalar(EPS, "eps");
  const embValues = g.constant("embedding_int8", table.values, [rows, dims]);
  const embScale = g.constant("embedding_scale", table.scale, [rows, 1]);
  const embWeight = g.constant("embedding_weight", table.weights, [rows]);
  const [axis1, axis2] = [g.ints("axis_1", [1]), g.ints("axis_2", [2])];
  const [vectorStart, vectorEnd] = [g.ints("vector_start", [0]), g.ints("vector_end", [dims])];
  const weightEnd = g.ints("weight_end", [dims + 1]);
  const zeroId = g.constant("zero_id", BigInt64Array.of(0n), []);

  // SIF-weighted mean; padding/unknown ids weigh 0 and Max guards 0/0 (an empty prompt). The sum is
  // a [B, 1, T] x [B, T, D+1] MatMul (the extra column of ones sums the weights): one GEMM per image.
  const mean = (ids: string, prefix: string): string => {
    const values = g.op("Cast", [g.op("Gather", [embValues, ids])], { to: 1 });
    const vectors = g.op("Mul", [values, g.op("Gather", [embScale, ids])]);
    const isToken = g.op("Unsqueeze", [g.op("GreaterOrEqual", [ids, zeroId]), axis2]);
    const joined = g.op("Concat", [vectors, g.op("Cast", [isToken], { to: 1 })], { axis: 2 });
    const weights = g.op("Unsqueeze", [g.op("Gather", [embWeight, ids]), axis1]);
    const sums = g.op("Squeeze", [g.op("MatMul", [weights, joined]), axis1]);
    const sum = g.op("Slice", [sums, vectorStart, vectorEnd, axis1]);
    const total = g.op("Slice", [sums, vectorEnd, weightEnd, axis1]);
    return g.op("Div", [sum, g.op("Max", [total, eps])], {}, `${prefix}_mean`);
  };
  const negative = g.op("Mul", [mean(negativeTokens, "negative"), g.scalar(design.negativeScale)]);
  const steered = g.op("Sub", [mean(tokens, "prompt"), negative]);
  const norm = g.op("Sqrt", [
    g.op("Add", [invariantSquaredNorm(g, steered, "ones_norm", dims), eps]),
  ]);
  const unit = g.op("Div", [steered, norm], {}, "text_unit");
  const unitNorm = invariantSquaredNorm(g, unit, "ones_unit_norm", dims);
  return { unit, blank: g.op("Sub", [g.scalar(1), unitNorm], {}, "blank") };
}

/** Palette ramp [B, R, 3] from the anchors ranked by cosine similarity to the prompt. */
function paletteRamp(w: Weights, inputs: CppnInputs, unit: string, blank: string, noise: string) {
  const { g } = w;
  const { dims, anchors, design } = inputs;
  const j = anchors.length;
  const ranks = Math.max(...design.ramp.map((s) => s.rank)) + 1;
  const stops = design.ramp.length;
  const anchorMatrix = new Float32Array(dims * j);
  inputs.anchorVectors.forEach((v, a) => v.forEach((x, dim) => (anchorMatrix[dim * j + a] = x)));
  // Without known words every similarity is 0; then the seed picks the palette instead.
  const seedPull = w.project(
    noise,
    "w_blank_palette",
    CPPN_IO.noise.shape[1],
    j,
    design.blankPaletteNoise,
  );
  const similarity = g.op("Add", [
    invariantMatMul(g, unit, "anchor_vectors", anchorMatrix, dims, j),
    g.op("Mul", [blank, seedPull]),
  ]);
  const [, top] = g.opWithOutputs(
    "TopK",
    [similarity, g.ints("palette_ranks", [ranks])],
    ["top_similarity", "top_anchors"],
    { axis: -1, largest: 1, sorted: 1 },
  );
  const anchorRgb = Float32Array.from(anchors.flatMap((a) => parseRgb(a.rgb)));
  const topRgb = g.op("Gather", [g.constant("anchor_rgb", anchorRgb, [j, 3]), top!]);
  const gains = new Float32Array(stops * ranks);
  design.ramp.forEach((s, i) => (gains[i * ranks + s.rank] = s.gain));
  const lifts = Float32Array.from(design.ramp, (s) => s.lift);
  const scaled = g.op("MatMul", [g.constant("ramp_gain", gains, [stops, ranks]), topRgb]);
  return g.op("Add", [scaled, g.constant("ramp_lift", lifts, [stops, 1])], {}, "palette");
}

/** Hidden features [B, P, H] of the CPPN over pixel coordinates [P, 3], and the shade [B, P, 1]. */
function cppnLayers(w: Weights, design: CppnDesign, coords: string, latent: string) {
  const { g } = w;
  const h = design.hidden;
  const layerStd = design.hiddenGain / Math.sqrt(h);
  const axisMinus2 = g.ints("axis_minus_2", [-2]);
  /** Per-image row [B, 1, n] from the latent, broadcast over pixels. */
  const fromLatent = (name: string, n: number, std: number) =>
    g.op("Unsqueeze", [w.project(latent, name, design.latent, n, std), axisMinus2]);
  const add = (a: string, b: string) => g.op("Add", [a, b]);
  const matmul = (x: string, name: string, rows: number, cols: number, std: number) =>
    g.op("MatMul", [x, w.matrix(name, rows, cols, std)]);

  const coordFeatures = matmul(coords, "w_coords", 3, h, design.coordScale);
  const modulation = g.op("Tanh", [fromLatent("w_frequency", h, 1)]);
  const frequency = add(
    g.scalar(1),
    g.op("Mul", [modulation, g.scalar(design.frequencyModulation)]),
  );
  const h1 = g.op("Tanh", [
    add(g.op("Mul", [coordFeatures, frequency]), fromLatent("w_bias_1", h, 1)),
  ]);
  const h2 = g.op("Sin", [
    add(matmul(h1, "w_hidden_2", h, h, layerStd), fromLatent("w_bias_2", h, 1)),
  ]);
  const skip = matmul(coords, "w_coords_skip", 3, h, design.coordScale / 2);
  const h3pre = add(
    add(matmul(h2, "w_hidden_3", h, h, layerStd), skip),
    fromLatent("w_bias_3", h, 0.5),
  );
  const h3 = g.op("Tanh", [h3pre]);
  const field = add(
    matmul(h3, "w_field", h, 1, 1 / Math.sqrt(h)),
    fromLatent("w_field_bias", 1, 0.5),
  );
  const shade = g.op("Tanh", [matmul(h3, "w_shade", h, 1, 1 / Math.sqrt(h))]);
  return { field: g.op("Identity", [field], {}, "field"), shade };
}

/**
 * Latent [B, L] and palette [B, R, 3] moved towards the request's style vector by its strength
 * (`x * (1 - s) + style * s`: exactly `x` at s = 0 and exactly the style at s = 1, in float32
 * too), and the style vector output that records them.
 */
function blendStyle(g: GraphBuilder, latent: string, palette: string) {
  const style = g.input(CPPN_STYLE_IO.style);
  const strength = g.input(CPPN_STYLE_IO.strength);
  const paletteWidth = STYLE_RAMP_STOPS * 3;
  const axis1 = g.ints("style_axis_1", [1]);
  const part = (name: string, start: number, end: number) =>
    g.op("Slice", [style, g.ints(`${name}_start`, [start]), g.ints(`${name}_end`, [end]), axis1]);
  const rampShape = g.ints("style_ramp_shape", [-1, STYLE_RAMP_STOPS, 3]);
  const styleLatent = part("style_latent", 0, STYLE_LATENT);
  const stylePalette = g.op("Reshape", [
    part("style_palette", STYLE_LATENT, STYLE_LATENT + paletteWidth),
    rampShape,
  ]);
  const one = g.scalar(1, "style_one");
  const towards = (x: string, target: string, s: string, name: string) =>
    g.op("Add", [g.op("Mul", [x, g.op("Sub", [one, s])]), g.op("Mul", [target, s])], {}, name);
  const styledLatent = towards(latent, styleLatent, strength, "styled_latent");
  const strength3 = g.op("Unsqueeze", [strength, g.ints("style_axis_2", [2])]);
  const styledPalette = towards(palette, stylePalette, strength3, "styled_palette");
  const flatPalette = g.op("Reshape", [
    styledPalette,
    g.ints("style_flat_shape", [-1, paletteWidth]),
  ]);
  g.op("Concat", [styledLatent, flatPalette], { axis: 1 }, CPPN_STYLE_IO.vector.name);
  return { latent: styledLatent, palette: styledPalette };
}

/** Builds the graph; the returned builder is ready to encode. */
export function buildCppnGraph(inputs: CppnInputs): GraphBuilder {
  const { design } = inputs;
  const w = new Weights(inputs.weightSeed);
  const { g } = w;
  const tokens = g.input(CPPN_IO.tokens);
  const negativeTokens = g.input(CPPN_IO.negativeTokens);
  const noise = g.input(CPPN_IO.noise);
  const coords = g.input(CPPN_IO.coords);

  const { unit, blank } = encodeText(w, inputs, tokens, negativeTokens);
  // Latent [B, L]: unit-variance text projection plus the seed's smaller part.
  const noiseDims = CPPN_IO.noise.shape[1];
  const textLatent = w.project(unit, "w_text", inputs.dims, design.latent, 1);
  const noiseStd = design.noiseScale / Math.sqrt(noiseDims);
  const noiseLatent = w.project(noise, "w_noise", noiseDims, design.latent, noiseStd);
  let latent = g.op("Add", [textLatent, noiseLatent], {}, "latent");
  let palette = paletteRamp(w, inputs, unit, blank, noise);
  if (inputs.style) {
    if (design.latent !== STYLE_LATENT || design.ramp.length !== STYLE_RAMP_STOPS) {
      throw new Error("the style vector layout assumes the reference design's latent and ramp");
    }
    ({ latent, palette } = blendStyle(g, latent, palette));
  }
  const { field, shade } = cppnLayers(w, design, coords, latent);

  // Colour: the field, folded by sin into [0, R-1], picks a point between adjacent ramp stops
  // (hat-function weights), then the shade makes it a little lighter or darker.
  const stops = design.ramp.length;
  const folded = g.op("Sin", [g.op("Mul", [field, g.scalar(design.bandFrequency)])]);
  const position = g.op("Mul", [g.op("Add", [folded, g.scalar(1)]), g.scalar((stops - 1) / 2)]);
  const stopIndex = g.constant(
    "stop_index",
    Float32Array.from({ length: stops }, (_, i) => i),
    [stops],
  );
  const distance = g.op("Abs", [g.op("Sub", [position, stopIndex])]);
  const hat = g.op("Relu", [g.op("Sub", [g.scalar(1), distance])]);
  const colour = g.op("MatMul", [hat, palette]);
  const light = g.op("Add", [g.scalar(1), g.op("Mul", [shade, g.scalar(design.shading)])]);
  const bytes = g.op("Mul", [g.op("Mul", [colour, light]), g.scalar(255)]);
  const clipped = g.op("Clip", [bytes, g.scalar(0), g.scalar(255)]);
  g.op("Cast", [g.op("Round", [clipped])], { to: 2 }, CPPN_IO.image.name);
  g.output(CPPN_IO.image);
  if (inputs.style) g.output(CPPN_STYLE_IO.vector);
  return g;
}
