import { COLOUR_ANCHORS, parseRgb } from "../../regional-gpu/model-build/colour-anchors.ts";
import type { RawImage } from "../../regional-gpu/pipelines/pipeline.ts";

// Where an image sits in the model's text space, read from its pixels: the colour-anchor words
// (the words the reference model builds palettes from) weighted by the share of the image's pixels
// nearest each anchor's colour. Chosen-minus-rejected of two outputs of one prompt is then the
// direction in text space, toward the colours people preferred, that the prompt head learns.

const SAMPLES = 4096;
const ANCHOR_RGB = COLOUR_ANCHORS.map((a) => parseRgb(a.rgb).map((c) => c * 255));

/** Share of `image`'s pixels (sampled on a grid) nearest each anchor colour, in COLOUR_ANCHORS order. */
export function anchorShares(image: RawImage): Float64Array {
  const shares = new Float64Array(COLOUR_ANCHORS.length);
  const pixels = image.width * image.height;
  const stride = Math.max(1, Math.floor(pixels / SAMPLES));
  let n = 0;
  for (let p = 0; p < pixels; p += stride) {
    const [r, g, b] = [image.data[p * 3]!, image.data[p * 3 + 1]!, image.data[p * 3 + 2]!];
    let best = 0;
    let bestDistance = Infinity;
    ANCHOR_RGB.forEach(([ar, ag, ab], a) => {
      const d = (r - ar!) ** 2 + (g - ag!) ** 2 + (b - ab!) ** 2;
      if (d < bestDistance) [best, bestDistance] = [a, d];
    });
    shares[best]! += 1;
    n++;
  }
  return shares.map((s) => s / n);
}

/** sum_a share_a * anchorVector_a: the image's colours as a point in text space. */
export function paletteVector(
  image: RawImage,
  anchorVectors: readonly Float64Array[],
): Float64Array {
  const shares = anchorShares(image);
  const out = new Float64Array(anchorVectors[0]!.length);
  shares.forEach((s, a) => {
    if (s === 0) return;
    const v = anchorVectors[a]!;
    for (let i = 0; i < out.length; i++) out[i]! += s * v[i]!;
  });
  return out;
}

/** The anchor words, to be encoded by the parent model into its text space. */
export const ANCHOR_WORDS = COLOUR_ANCHORS.map((a) => a.word);
