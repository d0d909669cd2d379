import type { JobAccepted, RegionJob } from "../../contracts/region-protocol.ts";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import {
  InvalidRequestError,
  ModelVersionNotFoundError,
  NotAcceptingJobsError,
  QueueFullError,
} from "../errors.ts";
import type { NodeLifecycle } from "../lifecycle.ts";
import type { ThroughputMeter } from "../metrics/throughput.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import { batchKeyOf, type CancelState } from "../queue/queue-backend.ts";

// Admission of one signed, schema-valid job: is the node serving, is the model version here, does
// the size fit the model, is there room in the queue. Answers the 202 body or throws the HTTP error
// that tells the edge to try another region. Also its undoing: the edge's cancel of a job.

export interface ModelCatalog {
  manifestOf(name: string, version: string): Promise<ModelManifest | null>;
}

export interface JobIntakeOptions {
  region: string;
  queue: JobQueue;
  models: ModelCatalog;
  meter: ThroughputMeter;
  lifecycle: NodeLifecycle;
  /** Jobs being run now. */
  inFlight: () => number;
  /**
   * Who holds an accepted job (JobAccepted.holder): this node's id when its own queue keeps the
   * job, null when the region's shared queue does.
   */
  holder: string | null;
  now?: () => number;
}

const RETRY_AFTER_S = { notReady: 5, draining: 30 } as const;
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

export class JobIntake {
  private readonly opts: JobIntakeOptions;
  private readonly now: () => number;

  constructor(opts: JobIntakeOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  async accept(job: RegionJob): Promise<JobAccepted> {
    const { lifecycle, queue, region } = this.opts;
    if (!lifecycle.ready) {
      throw lifecycle.draining
        ? new NotAcceptingJobsError("draining", RETRY_AFTER_S.draining)
        : new NotAcceptingJobsError("not_ready", RETRY_AFTER_S.notReady);
    }
    const manifest = await this.opts.models.manifestOf(job.model, job.model_version);
    if (!manifest) throw new ModelVersionNotFoundError(job.model, job.model_version);
    checkSize(manifest, job);
    checkStyle(manifest, job);

    const msPerJob = this.msPerJob(manifest, job);
    const result = await queue.enqueue(
      { job, batchKey: batchKeyOf(job), enqueuedAt: this.now() },
      (position) => ({
        job_id: job.job_id,
        region,
        queue_position: position,
        estimated_wait_ms: Math.round((position + this.opts.inFlight()) * msPerJob),
        holder: this.opts.holder,
      }),
    );
    if (result.kind === "full") {
      const retryAfterS = clamp(Math.ceil((result.depth * msPerJob) / 1000), 1, 60);
      throw new QueueFullError(result.depth, retryAfterS);
    }
    return result.answer;
  }

  /** Cancels a job (served while draining too: a queued job is better dropped than handed back). */
  cancel(jobId: string): Promise<CancelState> {
    return this.opts.queue.cancel(jobId);
  }

  /** Measured service time per job, or the manifest's figure before anything ran. */
  private msPerJob(manifest: ModelManifest, job: RegionJob): number {
    const megapixels = (job.width * job.height) / 1e6;
    return this.opts.meter.msPerJob() ?? manifest.gpu_ms_per_megapixel * megapixels;
  }
}

function checkSize(manifest: ModelManifest, job: RegionJob): void {
  const { min_side, max_side, multiple_of } = manifest.limits;
  for (const param of ["width", "height"] as const) {
    const side = job[param];
    if (side < min_side || side > max_side || side % multiple_of !== 0) {
      throw new InvalidRequestError(
        "size_not_supported",
        `${param} ${side} is not supported by ${manifest.name}@${manifest.version}: sides must be ${min_side}..${max_side} and multiples of ${multiple_of}`,
        { param },
      );
    }
  }
}

/** A style the model cannot take is refused here, not failed with its batch-mates later. */
function checkStyle(manifest: ModelManifest, job: RegionJob): void {
  if (!job.style) return;
  const spec = manifest.style;
  if (!spec || spec.space !== job.style.space || spec.dims !== job.style.vector.length) {
    throw new InvalidRequestError(
      "style_not_supported",
      spec
        ? `${manifest.name}@${manifest.version} takes ${spec.dims}-value style vectors of space ${spec.space}`
        : `${manifest.name}@${manifest.version} takes no style`,
      { param: "style" },
    );
  }
}
