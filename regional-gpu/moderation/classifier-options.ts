import { z } from "zod";
import type { SafetyClass } from "../../contracts/region-protocol.ts";

// Which nsfwjs classifier screens or confirms, with the shape of their converted ONNX graphs. Kept
// apart from the classifiers themselves so config code can name them without loading anything.
//
// MobileNetV2Mid is the default screen: on the reference CPPN's abstract images it gave no false
// positives where the smaller MobileNetV2 scored a smooth pink gradient 0.86 "porn" (README,
// "Output moderation"), at the same cost per image.

export const ClassifierModel = z.enum(["MobileNetV2Mid", "MobileNetV2", "InceptionV3"]);
export type ClassifierModel = z.infer<typeof ClassifierModel>;

/** Side of the square RGB input each model takes. */
export const CLASSIFIER_SIDE: Record<ClassifierModel, number> = {
  MobileNetV2Mid: 224,
  MobileNetV2: 224,
  InceptionV3: 299,
};

/** The converted graphs' input (uint8 [batch, side, side, 3]) and output (float32 [batch, 5]). */
export const CLASSIFIER_IO = { input: "pixels", output: "probabilities" } as const;

/** The order of the models' outputs (nsfwjs's NSFW_CLASSES, which the package does not export). */
export const OUTPUT_ORDER = [
  "drawing",
  "hentai",
  "neutral",
  "porn",
  "sexy",
] as const satisfies readonly SafetyClass[];
