// How large a batch the scheduler forms and how long a job may wait for batch-mates. MAX_BATCH and
// MAX_BATCH_DELAY_MS win when set; otherwise the defaults of the execution provider the models
// actually run on apply, known once the warm set has loaded.
//
// The defaults come from measurement (docs/benchmarks.md, "Regional node"; `npm run bench:region`):
// - cpu: one job per run. Since ONNX Runtime's CPU threads stopped spin-waiting between runs, a
//   batch of 4 at 256 x 256 takes 6-27% more CPU time per image than batch 1 (its intermediate
//   tensors outgrow the caches), and nodes served fewer images per second with batches of up to 4
//   than without in seven of eight runs of `npm run bench:region` (2026-12-07); with moderation on,
//   batches of 2 and 4 cost more CPU per image than batches of 1 too. Waiting for batch-mates never
//   paid on CPU: a lone job would wait while the cores idle.
// - cuda: a batch fills the GPU that one small image leaves idle; 8 jobs waiting at most 10 ms.

export interface BatchLimits {
  /** Most jobs of one model version and shape in one session.run. */
  readonly maxBatch: number;
  /** Longest a job waits, from its acceptance, for batch-mates. */
  readonly maxBatchDelayMs: number;
}

/**
 * Until when a batch whose first job was accepted at `firstEnqueuedAt` waits for batch-mates: a
 * job that already waited that long behind other work waits no longer.
 */
export const batchWaitsUntil = (firstEnqueuedAt: number, limits: BatchLimits) =>
  firstEnqueuedAt + limits.maxBatchDelayMs;

export const BATCH_DEFAULTS = {
  cpu: { maxBatch: 1, maxBatchDelayMs: 0 },
  cuda: { maxBatch: 8, maxBatchDelayMs: 10 },
} as const satisfies Record<string, BatchLimits>;

export type BatchLimitsSource = "configured" | "cpu-default" | "cuda-default";

/** The provider whose defaults apply to a pool's providers ("cpu", "cuda", "cpu,cuda", "none"). */
const providerOf = (executionProviders: string): keyof typeof BATCH_DEFAULTS =>
  executionProviders.split(",").includes("cuda") ? "cuda" : "cpu";

function limitsFor(
  executionProviders: string,
  configured: Partial<BatchLimits>,
): { limits: BatchLimits; source: BatchLimitsSource } {
  const provider = providerOf(executionProviders);
  const defaults = BATCH_DEFAULTS[provider];
  const both = configured.maxBatch !== undefined && configured.maxBatchDelayMs !== undefined;
  return {
    limits: {
      maxBatch: configured.maxBatch ?? defaults.maxBatch,
      maxBatchDelayMs: configured.maxBatchDelayMs ?? defaults.maxBatchDelayMs,
    },
    source: both ? "configured" : `${provider}-default`,
  };
}

export class BatchPolicy implements BatchLimits {
  private readonly configured: Partial<BatchLimits>;
  private current: { limits: BatchLimits; source: BatchLimitsSource };

  /** Until `resolve` runs, the CPU defaults apply to whatever was not configured. */
  constructor(configured: Partial<BatchLimits> = {}) {
    this.configured = configured;
    this.current = limitsFor("cpu", configured);
  }

  get maxBatch(): number {
    return this.current.limits.maxBatch;
  }

  get maxBatchDelayMs(): number {
    return this.current.limits.maxBatchDelayMs;
  }

  /** Where the limits came from, for logs: both configured, or a provider's defaults. */
  get source(): BatchLimitsSource {
    return this.current.source;
  }

  /** Applies the defaults of the provider the models run on to the limits not configured. */
  resolve(executionProviders: string): BatchLimits {
    this.current = limitsFor(executionProviders, this.configured);
    return this.current.limits;
  }
}
