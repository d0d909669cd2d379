import type { JobEvent, RegionJob } from "../../contracts/region-protocol.ts";
import { settleWithin } from "../../contracts/settle-within.ts";
import type { ObjectStore } from "../../storage/object-store.ts";
import { JOB_FAILURE, JobFailure, type JobFailureCode } from "../errors.ts";
import type { EventSender } from "../events/event-sender.ts";
import type { Logger } from "../log.ts";
import type { ThroughputMeter } from "../metrics/throughput.ts";
import { modelErrorCode } from "../models/model-errors.ts";
import type { LoadedModel, ModelRun } from "../models/model-pool.ts";
import {
  publishUnchecked,
  type BlockedVerdict,
  type OutputGate,
} from "../moderation/output-gate.ts";
import { PipelineInputError, type ImageRequest } from "../pipelines/pipeline.ts";
import { outputStyle } from "../style/output-style.ts";
import { resampleBatch } from "../upscale/resample-source.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import type { QueueEntry } from "../queue/queue-backend.ts";
import { batchWaitsUntil, type BatchLimits } from "./batch-policy.ts";
import type { SchedulerObserver } from "./scheduler-observer.ts";

// The worker loop: take the next job and others of its model version and shape (up to maxBatch, the
// first job waiting at most maxBatchDelayMs from its acceptance for more), announce them running, run
// the batch as one session.run, moderate and publish (or quarantine) each image and report every
// job's outcome to the edge.
// The output stage (encode, moderation, upload) of a batch overlaps the next batch's inference, so
// the executor is not left idle while a store write completes; at most MAX_FINISHING batches are in
// that stage, which holds the executor back when the outputs cannot keep up.
// A job canceled after it was taken still runs in its batch (session.run cannot be interrupted), but
// its image is neither moderated nor stored, and no terminal event is sent for it.
// Nothing here throws out of the loop.

export interface ModelSource {
  acquire(name: string, version: string): Promise<LoadedModel>;
}

export interface SchedulerOptions {
  region: string;
  queue: JobQueue;
  models: ModelSource;
  store: ObjectStore;
  /** Job events to the edge (through the shared queue's OutcomeReporter when there is one). */
  events: Pick<EventSender, "send">;
  meter: ThroughputMeter;
  logger: Logger;
  /** Read at every batch, so limits resolved after the models load apply. */
  batching: BatchLimits;
  observer?: SchedulerObserver;
  /**
   * Moderates each image, then publishes or quarantines it. Absent: images are published unchecked,
   * which only scheduler tests do; startRegion always sets one.
   */
  outputs?: OutputGate;
}

type SucceededResult = Omit<
  Extract<JobEvent, { type: "succeeded" }>,
  "type" | "job_id" | "region" | "request_id" | "at"
>;

type BlockedResult = Omit<SucceededResult, "output" | "moderation_flag"> & BlockedVerdict;

const IDLE_POLL_MS = 1_000;
const MAX_FINISHING = 2;

const iso = (ms: number = Date.now()) => new Date(ms).toISOString();

const failureCodeOf = (err: unknown): string =>
  err instanceof JobFailure ? err.code : JOB_FAILURE.inference;

const toRequest = (job: RegionJob): ImageRequest => ({
  prompt: job.prompt,
  ...(job.negative_prompt !== null && { negativePrompt: job.negative_prompt }),
  seed: job.seed,
  width: job.width,
  height: job.height,
  ...(job.style && { style: { vector: job.style.vector, strength: job.style.strength } }),
});

export class Scheduler {
  private readonly opts: SchedulerOptions;
  private readonly stopping = new AbortController();
  private loopDone: Promise<void> | null = null;
  /** Jobs taken into a batch whose outcome is not reported yet (inference or output stage). */
  private readonly active = new Map<string, QueueEntry>();
  /** Output stages of batches whose inference is done. */
  private readonly finishing = new Set<Promise<void>>();
  /** Jobs reported failed at the drain deadline while still running: their late results are dropped. */
  private readonly abandoned = new Set<string>();

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Jobs started and not finished: in the batch being run and in output stages. */
  inFlight(): number {
    return this.active.size;
  }

  /** Fails every job not yet started (the edge may route them elsewhere); answers how many. */
  async failQueued(message: string): Promise<number> {
    const entries = await this.opts.queue.removeQueued();
    for (const { job } of entries) {
      this.reportFailure(job, new JobFailure(JOB_FAILURE.draining, message), true);
    }
    await this.opts.queue.finish(entries.map((e) => e.job.job_id));
    return entries.length;
  }

  /**
   * Stops taking jobs and waits up to `timeoutMs` for the running batch and the output stages. Jobs
   * still unfinished then are abandoned (their late results dropped): handed to `release` when given (a shared queue runs
   * them on another node), else reported failed. Answers how many.
   */
  async stop(
    timeoutMs: number,
    release?: (entries: readonly QueueEntry[]) => Promise<void>,
  ): Promise<number> {
    this.stopping.abort();
    if (!this.loopDone) return 0;
    if ((await settleWithin(this.loopDone, timeoutMs)).settled) return 0;
    const left = [...this.active.values()];
    this.active.clear();
    for (const { job } of left) this.abandoned.add(job.job_id);
    if (release) {
      await release(left);
      return left.length;
    }
    for (const { job } of left) {
      // A canceled job has no outcome to report.
      if (this.opts.queue.discards(job.job_id)) continue;
      const failure = new JobFailure(
        JOB_FAILURE.shutdown,
        "node shut down before the job finished",
      );
      this.reportFailure(job, failure, false);
    }
    return left.length;
  }

  private async loop(): Promise<void> {
    const { queue, logger } = this.opts;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        const batch = await queue.take(this.opts.batching.maxBatch);
        if (batch.length === 0) {
          await queue.waitForJobs(IDLE_POLL_MS, signal);
          continue;
        }
        await this.fill(batch);
        for (const entry of batch) this.active.set(entry.job.job_id, entry);
        const { finishing } = await this.runBatch(batch);
        this.finishing.add(finishing);
        void finishing.finally(() => this.finishing.delete(finishing));
        while (this.finishing.size >= MAX_FINISHING) await Promise.race(this.finishing);
      } catch (err) {
        // A queue backend failure: log, pause, carry on.
        logger.error("scheduler loop error", { err });
        await queue.waitForJobs(IDLE_POLL_MS, signal);
      }
    }
    await Promise.all(this.finishing);
  }

  /**
   * Adds queued jobs of the batch's key, waiting for more until maxBatchDelayMs after the first job
   * was accepted: a job that already waited that long behind other work waits no longer.
   */
  private async fill(batch: QueueEntry[]): Promise<void> {
    const { queue } = this.opts;
    const { maxBatch } = this.opts.batching;
    const key = batch[0]!.batchKey;
    const deadline = batchWaitsUntil(batch[0]!.enqueuedAt, this.opts.batching);
    while (batch.length < maxBatch && !this.stopping.signal.aborted) {
      const more = await queue.take(maxBatch - batch.length, key);
      batch.push(...more);
      const left = deadline - Date.now();
      if (batch.length >= maxBatch || left <= 0) return;
      await queue.waitForJobs(left, this.stopping.signal);
    }
  }

  /**
   * Runs the batch on the executor. Resolves once the executor is free, with the batch's output
   * stage (which never rejects; wrapped, as an async function would wait for a returned promise).
   */
  private async runBatch(batch: QueueEntry[]): Promise<{ finishing: Promise<void> }> {
    const started = Date.now();
    const first = batch[0]!.job;
    for (const { job } of batch) this.send(job, { type: "running", ...this.base(job) });
    let model: LoadedModel;
    let run: ModelRun;
    let inferenceMs: number;
    try {
      model = await this.acquire(first);
      const inferenceStarted = performance.now();
      run = await this.infer(model, batch);
      inferenceMs = performance.now() - inferenceStarted;
    } catch (err) {
      const failures = batch.map(() => failureCodeOf(err));
      for (const { job } of batch) this.fail(job, err, false);
      this.opts.meter.record(batch.length, failures.length, Date.now() - started, failures);
      await this.opts.queue.finish(batch.map((e) => e.job.job_id));
      return { finishing: Promise.resolve() };
    }
    this.opts.observer?.batchRan({
      model: model.ref,
      size: batch.length,
      executionProvider: model.executionProvider,
      inferenceMs,
      sessionMs: run.sessionMs,
    });
    // Service time is the executor's: the output stage overlaps the next batch.
    const executorMs = Date.now() - started;
    return { finishing: this.finishBatch(batch, model, run, { started, inferenceMs, executorMs }) };
  }

  /** Moderates and publishes each image of a run batch, and reports every job's outcome. */
  private async finishBatch(
    batch: QueueEntry[],
    model: LoadedModel,
    run: ModelRun,
    at: { started: number; inferenceMs: number; executorMs: number },
  ): Promise<void> {
    const { started, inferenceMs } = at;
    const startedAt = iso(started);
    const gpuMs = run.sessionMs / batch.length;
    let failures: string[] = [];
    try {
      const outcomes = await Promise.all(
        batch.map(async (entry, i) => {
          if (this.dropIfCanceled(entry.job)) return null;
          try {
            const image = run.images[i]!;
            const gated = this.opts.outputs
              ? await this.opts.outputs.pass(entry.job, image)
              : await publishUnchecked(this.opts.store, image);
            const done = {
              started_at: startedAt,
              gpu_ms: gpuMs,
              execution_provider: model.executionProvider,
              timings: {
                queue_ms: Math.max(0, started - entry.enqueuedAt),
                inference_ms: inferenceMs,
                encode_ms: gated.encodeMs,
                upload_ms: gated.uploadMs,
                batch_size: batch.length,
                ...(gated.moderationMs !== undefined && { moderation_ms: gated.moderationMs }),
              },
            };
            if (gated.kind === "blocked") {
              this.block(entry.job, { ...done, ...gated.blocked });
            } else {
              const flag = gated.flag && { moderation_flag: gated.flag };
              const style = outputStyle(image, model.manifest);
              this.succeed(entry, { ...done, output: gated.output, ...flag, ...style });
            }
            return null;
          } catch (err) {
            this.fail(entry.job, err, false);
            return failureCodeOf(err);
          }
        }),
      );
      failures = outcomes.filter((code) => code !== null);
    } finally {
      this.opts.meter.record(batch.length, failures.length, at.executorMs, failures);
      await this.opts.queue.finish(batch.map((e) => e.job.job_id)).catch((err: unknown) => {
        this.opts.logger.error("could not mark jobs finished in the queue", { err });
      });
    }
  }

  private async acquire(job: RegionJob): Promise<LoadedModel> {
    try {
      return await this.opts.models.acquire(job.model, job.model_version);
    } catch (err) {
      const message = `model ${job.model}@${job.model_version} could not be loaded: ${(err as Error).message}`;
      const code =
        modelErrorCode(err) === JOB_FAILURE.modelStoreUnreachable
          ? JOB_FAILURE.modelStoreUnreachable
          : JOB_FAILURE.modelUnavailable;
      throw new JobFailure(code, message, err);
    }
  }

  private async infer(model: LoadedModel, batch: QueueEntry[]): Promise<ModelRun> {
    let run: ModelRun;
    try {
      // Upscales by resampling share a batch key of their own: such a batch runs no model.
      run = batch[0]!.job.source
        ? await resampleBatch(
            batch.map((e) => e.job),
            { store: this.opts.store },
          )
        : await model.run(batch.map((e) => toRequest(e.job)));
    } catch (err) {
      if (err instanceof JobFailure) throw err;
      const code: JobFailureCode =
        err instanceof PipelineInputError ? JOB_FAILURE.invalidInput : JOB_FAILURE.inference;
      throw new JobFailure(code, (err as Error).message, err);
    }
    if (run.images.length !== batch.length) {
      const message = `pipeline returned ${run.images.length} images for ${batch.length} requests`;
      throw new JobFailure(JOB_FAILURE.inference, message);
    }
    return run;
  }

  private succeed(entry: QueueEntry, result: SucceededResult): void {
    const { job } = entry;
    if (this.abandoned.delete(job.job_id) || this.dropIfCanceled(job)) return;
    this.active.delete(job.job_id);
    this.log(job).info("job succeeded", {
      key: result.output.key,
      gpu_ms: Math.round(result.gpu_ms),
      ...result.timings,
    });
    this.opts.observer?.jobSucceeded({
      model: `${job.model}@${job.model_version}`,
      lane: job.priority,
      queueMs: result.timings.queue_ms,
      encodeMs: result.timings.encode_ms,
      uploadMs: result.timings.upload_ms,
      ...(result.timings.moderation_ms !== undefined && {
        moderationMs: result.timings.moderation_ms,
      }),
    });
    this.send(job, { type: "succeeded", ...this.base(job), ...result });
  }

  /** Reports an output blocked by moderation (kept in quarantine), unless already abandoned. */
  private block(job: RegionJob, result: BlockedResult): void {
    if (this.abandoned.delete(job.job_id) || this.dropIfCanceled(job)) return;
    this.active.delete(job.job_id);
    this.log(job).warn("job output blocked by moderation", {
      categories: result.categories,
      scores: result.scores,
      classifier: result.classifier,
      quarantine_key: result.quarantine_key,
      gpu_ms: Math.round(result.gpu_ms),
      ...result.timings,
    });
    this.opts.observer?.jobBlocked?.({
      model: `${job.model}@${job.model_version}`,
      lane: job.priority,
      queueMs: result.timings.queue_ms,
      encodeMs: result.timings.encode_ms,
      uploadMs: result.timings.upload_ms,
      ...(result.timings.moderation_ms !== undefined && {
        moderationMs: result.timings.moderation_ms,
      }),
      categories: result.categories,
    });
    this.send(job, { type: "blocked", ...this.base(job), ...result });
  }

  /** Reports a failure, unless the job was already reported failed at the drain deadline. */
  private fail(job: RegionJob, err: unknown, retryable: boolean): void {
    if (this.abandoned.delete(job.job_id) || this.dropIfCanceled(job)) return;
    this.active.delete(job.job_id);
    this.reportFailure(job, err, retryable);
  }

  /** A job canceled while it ran: it leaves the active set and nothing more is reported for it. */
  private dropIfCanceled(job: RegionJob): boolean {
    if (!this.opts.queue.discards(job.job_id)) return false;
    this.active.delete(job.job_id);
    this.log(job).info("job canceled while running; output discarded");
    return true;
  }

  private reportFailure(job: RegionJob, err: unknown, retryable: boolean): void {
    const failure =
      err instanceof JobFailure ? err : new JobFailure(JOB_FAILURE.inference, String(err), err);
    const level = failure.code === JOB_FAILURE.draining ? "info" : "error";
    const model = `${job.model}@${job.model_version}`;
    this.opts.observer?.jobFailed({ model, lane: job.priority, code: failure.code });
    this.log(job)[level]("job failed", {
      code: failure.code,
      retryable,
      err: failure.cause ?? failure,
    });
    this.send(job, {
      type: "failed",
      ...this.base(job),
      error: { code: failure.code, message: failure.message },
      retryable,
    });
  }

  private send(job: RegionJob, event: JobEvent): void {
    void this.opts.events.send(job.callback_url, event);
  }

  private base(job: RegionJob) {
    return { job_id: job.job_id, region: this.opts.region, request_id: job.request_id, at: iso() };
  }

  private log(job: RegionJob): Logger {
    return this.opts.logger.child({ request_id: job.request_id, job_id: job.job_id });
  }
}
