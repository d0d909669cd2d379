import { z } from "zod";

// Which bundled nsfwjs model the safety classifier runs, and on which TensorFlow.js backend. Kept apart
// from nsfw-model.ts so config code can name them without loading TensorFlow.js.
//
// MobileNetV2Mid is the default: on the reference CPPN's abstract images it gave no false positives
// where the smaller MobileNetV2 scored a smooth pink gradient 0.86 "porn" (README, "Output
// moderation"), at the same cost per image. wasm (SIMD) is several times faster than the pure-JS cpu
// backend, which stays as the fallback and the baseline the measurements compare against.

export const ClassifierBackend = z.enum(["wasm", "cpu"]);
export type ClassifierBackend = z.infer<typeof ClassifierBackend>;

export const ClassifierModel = z.enum(["MobileNetV2Mid", "MobileNetV2", "InceptionV3"]);
export type ClassifierModel = z.infer<typeof ClassifierModel>;

/** Side of the square RGB input each model takes. */
export const CLASSIFIER_SIDE: Record<ClassifierModel, number> = {
  MobileNetV2Mid: 224,
  MobileNetV2: 224,
  InceptionV3: 299,
};
