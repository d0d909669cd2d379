import type { Priority } from "../../contracts/api.ts";
import type { HeldJobs, JobCancelAnswer, RegionJob } from "../../contracts/region-protocol.ts";

// Where a region keeps its jobs: in process (the embedded default) or, at scale, Redis/BullMQ shared by
// the region's nodes. Methods are async so a networked backend fits the same seam.

export interface QueueEntry {
  job: RegionJob;
  /** Jobs with equal keys (model version + shape) may run in one batch. */
  batchKey: string;
  /** Epoch ms when the region accepted the job. */
  enqueuedAt: number;
}

export type LaneDepths = Record<Priority, number>;

/** What a cancel found: JobCancelAnswer's states, or `unknown` (never accepted here, or forgotten). */
export type CancelState = JobCancelAnswer["state"] | "unknown";

export interface QueueBackend {
  /**
   * Adds the entry unless a job with its id is queued or running. `position` is the number of jobs
   * served before it (null when it is already running).
   */
  add(entry: QueueEntry): Promise<{ added: boolean; position: number | null }>;
  /**
   * Removes up to `max` queued jobs in service order and marks them running: with a batch key, only
   * jobs of that key; without, the next job and the jobs of its key that follow it.
   */
  take(max: number, batchKey?: string): Promise<QueueEntry[]>;
  /**
   * Removes a queued job so it never runs (`canceled`); a job already taken is left alone
   * (`running`). A shared backend also answers `finished` and keeps its answer for every node.
   */
  cancel(jobId: string): Promise<CancelState>;
  /** Forgets running jobs once they reached a terminal state. */
  finish(jobIds: readonly string[]): Promise<void>;
  /**
   * Removes and answers every queued (not running) job this node holds, in service order. A shared
   * backend answers only jobs it holds locally (e.g. prefetched), never the region's whole queue.
   */
  removeQueued(): Promise<QueueEntry[]>;
  depth(): Promise<LaneDepths>;
  running(): Promise<number>;
  /**
   * Ids of the jobs this queue answers for, queued or running, at most `max` (then `complete` is
   * false): this node's own (`node`), or the region's whole shared queue (`region`). The edge
   * renews its leases on them and takes back the jobs a complete list leaves out.
   */
  heldJobs(max: number): Promise<HeldJobs>;
  /**
   * Shared backends: puts unstarted jobs (from removeQueued or take) back on the shared queue, for
   * another node to run, when this node drains. Absent on a node-local queue: a draining node hands
   * those jobs back to the edge instead (failed, retryable).
   */
  release?(entries: readonly QueueEntry[]): Promise<void>;
  /** When the oldest queued job was accepted (epoch ms), or null when nothing is queued. */
  oldestEnqueuedAt?(): Promise<number | null>;
  /** Nodes currently taking jobs from this queue (this one included); absent = this node only. */
  activeNodes?(): Promise<number>;
  /**
   * Jobs taken from this queue and not finished yet, by every node taking from it (running, or
   * fetched for a batch); absent = this node's running().
   */
  activeJobs?(): Promise<number>;
  /** Shared backends: calls `listener` when jobs may be waiting that this node did not enqueue. */
  onJobsAvailable?(listener: () => void): void;
  /** Releases connections and timers; called last, when the node stops. */
  close?(): Promise<void>;
}

export const LANES: readonly Priority[] = ["fast", "standard", "relax"];

// An upscale by resampling runs no model and gains nothing from company: it is a batch of its own
// (so one unreadable parent fails only its own job).
export const batchKeyOf = (
  job: Pick<RegionJob, "model" | "model_version" | "width" | "height"> &
    Partial<Pick<RegionJob, "job_id" | "source">>,
) =>
  `${job.model}@${job.model_version}:${job.width}x${job.height}${job.source ? `:resample:${job.job_id}` : ""}`;
