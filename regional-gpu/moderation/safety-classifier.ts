import type { SafetyScores } from "../../contracts/region-protocol.ts";

// What the output moderator asks of a classifier: scores for a batch of square RGB images.

export interface SafetyClassifier {
  /** Which classifier judges, e.g. "nsfwjs/MobileNetV2Mid@4.4.0+onnx". */
  readonly id: string;
  /** Side of the square input. */
  readonly side: number;
  /** Scores side x side interleaved RGB images, in order. */
  classify(images: readonly Uint8Array[]): Promise<SafetyScores[]>;
}

/** The classifier cannot run (closed, or its model could not be loaded). */
export class ClassifierUnavailableError extends Error {
  readonly code = "classifier_unavailable";
  override readonly name = "ClassifierUnavailableError";
}
