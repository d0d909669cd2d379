import type { JobEvent, RegionJob } from "../../contracts/region-protocol.ts";
import type { ObjectStore } from "../../storage/object-store.ts";
import { JOB_FAILURE, JobFailure, type JobFailureCode } from "../errors.ts";
import type { EventSender } from "../events/event-sender.ts";
import type { Logger } from "../log.ts";
import type { ThroughputMeter } from "../metrics/throughput.ts";
import type { LoadedModel, ModelRun } from "../models/model-pool.ts";
import { publishImage } from "../output/publish.ts";
import { PipelineInputError, type ImageRequest } from "../pipelines/pipeline.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import type { QueueEntry } from "../queue/queue-backend.ts";

// The worker loop: take the next job and others of its model version and shape (up to maxBatch,
// waiting at most maxBatchDelayMs for more), announce them running, run the batch, publish each image
// and report every job's outcome to the edge. Nothing here throws out of the loop.

export interface ModelSource {
  acquire(name: string, version: string): Promise<LoadedModel>;
}

export interface SchedulerOptions {
  region: string;
  queue: JobQueue;
  models: ModelSource;
  store: ObjectStore;
  events: EventSender;
  meter: ThroughputMeter;
  logger: Logger;
  maxBatch: number;
  maxBatchDelayMs: number;
}

type SucceededResult = Omit<
  Extract<JobEvent, { type: "succeeded" }>,
  "type" | "job_id" | "region" | "request_id" | "at"
>;

const IDLE_POLL_MS = 1_000;

const iso = (ms: number = Date.now()) => new Date(ms).toISOString();

const toRequest = (job: RegionJob): ImageRequest => ({
  prompt: job.prompt,
  ...(job.negative_prompt !== null && { negativePrompt: job.negative_prompt }),
  seed: job.seed,
  width: job.width,
  height: job.height,
});

export class Scheduler {
  private readonly opts: SchedulerOptions;
  private readonly stopping = new AbortController();
  private loopDone: Promise<void> | null = null;
  private current: QueueEntry[] = [];
  /** Jobs reported failed at the drain deadline while still running: their late results are dropped. */
  private readonly abandoned = new Set<string>();

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Jobs in the batch being run now. */
  inFlight(): number {
    return this.current.length;
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
   * Stops taking jobs and waits up to `timeoutMs` for the running batch. Jobs still running then are
   * reported failed; answers how many.
   */
  async stop(timeoutMs: number): Promise<number> {
    this.stopping.abort();
    if (!this.loopDone) return 0;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">(
      (r) => (timer = setTimeout(() => r("timeout"), timeoutMs)),
    );
    const outcome = await Promise.race([this.loopDone, timedOut]);
    clearTimeout(timer);
    if (outcome !== "timeout") return 0;
    const left = this.current.filter((e) => !this.abandoned.has(e.job.job_id));
    for (const { job } of left) {
      this.abandoned.add(job.job_id);
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
        const batch = await queue.take(this.opts.maxBatch);
        if (batch.length === 0) {
          await queue.waitForJobs(IDLE_POLL_MS, signal);
          continue;
        }
        await this.fill(batch);
        this.current = batch;
        await this.runBatch(batch);
      } catch (err) {
        // A queue backend failure: log, pause, carry on.
        logger.error("scheduler loop error", { err });
        await queue.waitForJobs(IDLE_POLL_MS, signal);
      } finally {
        this.current = [];
      }
    }
  }

  /** Waits up to maxBatchDelayMs for more jobs of the batch's key. */
  private async fill(batch: QueueEntry[]): Promise<void> {
    const { maxBatch, maxBatchDelayMs, queue } = this.opts;
    const key = batch[0]!.batchKey;
    const deadline = performance.now() + maxBatchDelayMs;
    while (batch.length < maxBatch && !this.stopping.signal.aborted) {
      const more = await queue.take(maxBatch - batch.length, key);
      batch.push(...more);
      const left = deadline - performance.now();
      if (batch.length >= maxBatch || left <= 0) return;
      await queue.waitForJobs(left, this.stopping.signal);
    }
  }

  private async runBatch(batch: QueueEntry[]): Promise<void> {
    const { meter } = this.opts;
    const started = Date.now();
    const startedAt = iso(started);
    const first = batch[0]!.job;
    for (const { job } of batch) this.send(job, { type: "running", ...this.base(job) });
    let failed = 0;
    try {
      const model = await this.acquire(first);
      const inferenceStarted = performance.now();
      const run = await this.infer(model, batch);
      const inferenceMs = performance.now() - inferenceStarted;
      const gpuMs = run.sessionMs / batch.length;
      const outcomes = await Promise.all(
        batch.map(async (entry, i) => {
          try {
            const published = await publishImage(this.opts.store, run.images[i]!);
            this.succeed(entry, {
              started_at: startedAt,
              gpu_ms: gpuMs,
              execution_provider: model.executionProvider,
              timings: {
                queue_ms: Math.max(0, started - entry.enqueuedAt),
                inference_ms: inferenceMs,
                encode_ms: published.encodeMs,
                upload_ms: published.uploadMs,
                batch_size: batch.length,
              },
              output: published.object,
            });
            return true;
          } catch (err) {
            this.fail(entry.job, err, false);
            return false;
          }
        }),
      );
      failed = outcomes.filter((ok) => !ok).length;
    } catch (err) {
      failed = batch.length;
      for (const { job } of batch) this.fail(job, err, false);
    } finally {
      meter.record(batch.length, failed, Date.now() - started);
      await this.opts.queue.finish(batch.map((e) => e.job.job_id));
    }
  }

  private async acquire(job: RegionJob): Promise<LoadedModel> {
    try {
      return await this.opts.models.acquire(job.model, job.model_version);
    } catch (err) {
      const message = `model ${job.model}@${job.model_version} could not be loaded: ${(err as Error).message}`;
      throw new JobFailure(JOB_FAILURE.modelUnavailable, message, err);
    }
  }

  private async infer(model: LoadedModel, batch: QueueEntry[]): Promise<ModelRun> {
    let run: ModelRun;
    try {
      run = await model.run(batch.map((e) => toRequest(e.job)));
    } catch (err) {
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
    if (this.abandoned.delete(job.job_id)) return;
    this.log(job).info("job succeeded", {
      key: result.output.key,
      gpu_ms: Math.round(result.gpu_ms),
      ...result.timings,
    });
    this.send(job, { type: "succeeded", ...this.base(job), ...result });
  }

  /** Reports a failure, unless the job was already reported failed at the drain deadline. */
  private fail(job: RegionJob, err: unknown, retryable: boolean): void {
    if (this.abandoned.delete(job.job_id)) return;
    this.reportFailure(job, err, retryable);
  }

  private reportFailure(job: RegionJob, err: unknown, retryable: boolean): void {
    const failure =
      err instanceof JobFailure ? err : new JobFailure(JOB_FAILURE.inference, String(err), err);
    const level = failure.code === JOB_FAILURE.draining ? "info" : "error";
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
