import type { InferenceSession, Tensor } from "onnxruntime-node";
import type { ExecutionProviderChoice } from "../config.ts";
import type { Fields } from "../log.ts";

// Messages between the node's main thread and its inference executor thread. Tensors cross as plain
// { type, dims, data } records (structured clone copies inputs; outputs are transferred, not copied).

export interface WireTensor {
  type: Tensor.Type;
  dims: readonly number[];
  data: Tensor.DataType;
}

export type ExecutorRequest =
  | { op: "create"; id: number; modelPath: string; choice: ExecutionProviderChoice }
  | {
      op: "run";
      id: number;
      session: number;
      feeds: Record<string, WireTensor>;
      fetches?: readonly string[];
      options?: InferenceSession.RunOptions;
    }
  | { op: "release"; id: number; session: number };

export interface CreatedReply {
  session: number;
  executionProvider: string;
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata: readonly InferenceSession.ValueMetadata[];
  outputMetadata: readonly InferenceSession.ValueMetadata[];
}

export interface WireError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type ExecutorReply =
  | { id: number; ok: true; result: CreatedReply | Record<string, WireTensor> | null }
  | { id: number; ok: false; error: WireError }
  | { log: { level: "debug" | "info" | "warn" | "error"; msg: string; fields?: Fields } };
