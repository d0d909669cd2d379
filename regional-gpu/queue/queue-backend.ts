import type { Priority } from "../../contracts/api.ts";
import type { RegionJob } from "../../contracts/region-protocol.ts";

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
  /** Forgets running jobs once they reached a terminal state. */
  finish(jobIds: readonly string[]): Promise<void>;
  /** Removes and answers every queued (not running) job, in service order. */
  removeQueued(): Promise<QueueEntry[]>;
  depth(): Promise<LaneDepths>;
  running(): Promise<number>;
}

export const LANES: readonly Priority[] = ["fast", "standard", "relax"];

export const batchKeyOf = (job: RegionJob) =>
  `${job.model}@${job.model_version}:${job.width}x${job.height}`;
