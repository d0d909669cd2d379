import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import type { ExecutionProviderChoice } from "../config.ts";
import type { Logger } from "../log.ts";

// Creates ONNX Runtime sessions on the execution provider ORT_EP asks for:
//   cpu  -> ["cpu"]
//   cuda -> ["cuda", "cpu"] (CPU only for nodes CUDA lacks); no CUDA is an error
//   auto -> as cuda, falling back to ["cpu"] when CUDA cannot be loaded (logged once, with the reason)

export interface CreatedSession {
  session: InferenceSession;
  /** The provider the session runs on: "cuda" or "cpu". */
  executionProvider: string;
}

export interface SessionFactory {
  create(modelPath: string): Promise<CreatedSession>;
}

export class CudaUnavailableError extends Error {
  readonly code = "cuda_unavailable";
  constructor(cause: unknown) {
    super(`ORT_EP=cuda but the CUDA execution provider cannot be used: ${messageOf(cause)}`, {
      cause,
    });
    this.name = "CudaUnavailableError";
  }
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Why CUDA certainly cannot load, without trying: onnxruntime-node ships the CUDA provider library
 * only when installed with --onnxruntime-node-install=cuda12. Null = worth a try. (A failed try also
 * prints ONNX Runtime's own error line on stderr, which this check spares CPU hosts.)
 */
export function cudaLibraryMissing(): string | null {
  if (process.platform !== "linux") return null;
  const pkg = dirname(dirname(createRequire(import.meta.url).resolve("onnxruntime-node")));
  const lib = join(
    pkg,
    "bin",
    "napi-v6",
    "linux",
    process.arch,
    "libonnxruntime_providers_cuda.so",
  );
  return existsSync(lib)
    ? null
    : "onnxruntime-node was installed without its CUDA provider (npm ci --onnxruntime-node-install=cuda12)";
}

export class OrtSessionFactory implements SessionFactory {
  private readonly choice: ExecutionProviderChoice;
  private readonly logger: Logger;
  /** Why CUDA could not be used, once known; later sessions go straight to the CPU. */
  private cudaUnavailable: string | null = null;

  constructor(opts: { choice: ExecutionProviderChoice; logger: Logger }) {
    this.choice = opts.choice;
    this.logger = opts.logger;
  }

  async create(modelPath: string): Promise<CreatedSession> {
    if (this.choice === "cpu" || this.cudaUnavailable !== null) return this.onCpu(modelPath);
    let cudaError: unknown = cudaLibraryMissing();
    if (cudaError === null) {
      try {
        const session = await InferenceSession.create(modelPath, {
          executionProviders: ["cuda", "cpu"],
        });
        return { session, executionProvider: "cuda" };
      } catch (err) {
        cudaError = err;
      }
    }
    // Tell a CUDA problem from a bad model: only when the CPU can load the model was CUDA the cause.
    let onCpu: CreatedSession;
    try {
      onCpu = await this.onCpu(modelPath);
    } catch (cpuError) {
      throw new Error(`cannot load ${modelPath}: ${messageOf(cpuError)}`, { cause: cpuError });
    }
    if (this.choice === "cuda") {
      await onCpu.session.release();
      throw new CudaUnavailableError(cudaError);
    }
    this.cudaUnavailable = messageOf(cudaError);
    this.logger.warn("CUDA execution provider unavailable; running on CPU", {
      reason: this.cudaUnavailable,
    });
    return onCpu;
  }

  private async onCpu(modelPath: string): Promise<CreatedSession> {
    // Idle intra-op threads would otherwise spin between runs and take cores from encoding, moderation
    // and I/O (measured: the raw loop ran 1.67x faster with 36% less CPU; docs/benchmarks.md).
    const session = await InferenceSession.create(modelPath, {
      executionProviders: ["cpu"],
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    });
    return { session, executionProvider: "cpu" };
  }
}
