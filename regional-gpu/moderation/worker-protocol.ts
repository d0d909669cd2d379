import { z } from "zod";
import type { SafetyScores } from "../../contracts/region-protocol.ts";
import { ClassifierBackend, ClassifierModel } from "./classifier-options.ts";

// Messages between the classifier pool (main thread) and its worker threads.

export const ClassifierWorkerData = z.strictObject({
  model: ClassifierModel,
  backend: ClassifierBackend,
});
export type ClassifierWorkerData = z.infer<typeof ClassifierWorkerData>;

/** main -> worker: `count` square RGB images packed in `pixels` (transferred, not copied). */
export interface ScoreRequest {
  id: number;
  pixels: Uint8Array;
  count: number;
}

/** worker -> main. */
export type WorkerMessage =
  | { type: "ready"; classifier: string; side: number; loadMs: number }
  | { type: "scores"; id: number; scores: SafetyScores[]; ms: number }
  | { type: "error"; id: number; message: string };
