import type { Priority } from "../../contracts/api.ts";

// What the scheduler tells whoever watches it (metrics, the benchmark): one call per batch run and
// per job outcome. Observers must be cheap and must not throw; the scheduler does not wait for them.

export interface BatchRan {
  /** name@version */
  model: string;
  size: number;
  executionProvider: string;
  /** Wall time of the pipeline run (pre-processing, session.run, splitting the output). */
  inferenceMs: number;
  /** Time inside session.run alone. */
  sessionMs: number;
}

export interface JobDone {
  model: string;
  lane: Priority;
  queueMs: number;
  encodeMs: number;
  uploadMs: number;
  /** Present when the output was moderated. */
  moderationMs?: number;
}

export interface SchedulerObserver {
  batchRan(batch: BatchRan): void;
  jobSucceeded(job: JobDone): void;
  /** A job ended blocked by output moderation. */
  jobBlocked?(job: JobDone & { categories: readonly string[] }): void;
  jobFailed(job: { model: string; lane: Priority; code: string }): void;
}
