import type { Priority } from "../../contracts/api.ts";
import type { HeldJobs } from "../../contracts/region-protocol.ts";
import {
  LANES,
  type CancelState,
  type LaneDepths,
  type QueueBackend,
  type QueueEntry,
} from "./queue-backend.ts";

// The embedded queue: one array kept in service order. A job's rank is fixed when it arrives:
//   enqueuedAt + lane index * agingMs
// so lanes are served fast > standard > relax, FIFO within a lane, and a job that has waited agingMs
// longer than another outranks it by one lane (a relax job is never starved by a stream of fast ones).

export interface InProcessQueueOptions {
  agingMs: number;
}

interface Ranked {
  entry: QueueEntry;
  rank: number;
  seq: number;
}

/**
 * A job's place in service order, fixed on arrival: lanes fast > standard > relax, FIFO within a
 * lane, and a job that has waited `agingMs` longer than another outranks it by one lane.
 */
export const laneRank = (lane: Priority, enqueuedAt: number, agingMs: number) =>
  enqueuedAt + LANES.indexOf(lane) * agingMs;

const before = (a: Ranked, b: Ranked) => a.rank < b.rank || (a.rank === b.rank && a.seq < b.seq);

export class InProcessQueueBackend implements QueueBackend {
  private readonly agingMs: number;
  private readonly queued: Ranked[] = [];
  private readonly queuedIds = new Set<string>();
  private readonly runningIds = new Set<string>();
  private seq = 0;

  constructor(opts: InProcessQueueOptions) {
    this.agingMs = opts.agingMs;
  }

  async add(entry: QueueEntry): Promise<{ added: boolean; position: number | null }> {
    const id = entry.job.job_id;
    if (this.runningIds.has(id)) return { added: false, position: null };
    if (this.queuedIds.has(id)) {
      return { added: false, position: this.queued.findIndex((r) => r.entry.job.job_id === id) };
    }
    const ranked: Ranked = {
      entry,
      rank: laneRank(entry.job.priority, entry.enqueuedAt, this.agingMs),
      seq: this.seq++,
    };
    // Binary search for the first element ranked after the new one; arrivals mostly land at the end.
    let lo = 0;
    let hi = this.queued.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.queued[mid]!, ranked)) lo = mid + 1;
      else hi = mid;
    }
    this.queued.splice(lo, 0, ranked);
    this.queuedIds.add(id);
    return { added: true, position: lo };
  }

  async take(max: number, batchKey?: string): Promise<QueueEntry[]> {
    const key = batchKey ?? this.queued[0]?.entry.batchKey;
    if (key === undefined || max < 1) return [];
    const taken: QueueEntry[] = [];
    for (let i = 0; i < this.queued.length && taken.length < max;) {
      const { entry } = this.queued[i]!;
      if (entry.batchKey !== key) {
        i++;
        continue;
      }
      this.queued.splice(i, 1);
      this.queuedIds.delete(entry.job.job_id);
      this.runningIds.add(entry.job.job_id);
      taken.push(entry);
    }
    return taken;
  }

  async cancel(jobId: string): Promise<CancelState> {
    if (this.runningIds.has(jobId)) return "running";
    if (!this.queuedIds.delete(jobId)) return "unknown";
    this.queued.splice(
      this.queued.findIndex((r) => r.entry.job.job_id === jobId),
      1,
    );
    return "canceled";
  }

  async finish(jobIds: readonly string[]): Promise<void> {
    for (const id of jobIds) this.runningIds.delete(id);
  }

  async removeQueued(): Promise<QueueEntry[]> {
    const all = this.queued.splice(0).map((r) => r.entry);
    this.queuedIds.clear();
    return all;
  }

  async depth(): Promise<LaneDepths> {
    const depth: LaneDepths = { fast: 0, standard: 0, relax: 0 };
    for (const { entry } of this.queued) depth[entry.job.priority]++;
    return depth;
  }

  async running(): Promise<number> {
    return this.runningIds.size;
  }

  async heldJobs(max: number): Promise<HeldJobs> {
    const jobs = [...this.runningIds, ...this.queuedIds];
    return { scope: "node", jobs: jobs.slice(0, max), complete: jobs.length <= max };
  }

  async oldestEnqueuedAt(): Promise<number | null> {
    // Aging reorders lanes, so the oldest job is not necessarily first in service order.
    let oldest: number | null = null;
    for (const { entry } of this.queued) {
      if (oldest === null || entry.enqueuedAt < oldest) oldest = entry.enqueuedAt;
    }
    return oldest;
  }
}
