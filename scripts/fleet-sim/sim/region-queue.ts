import { laneRank } from "../../../regional-gpu/queue/in-process-backend.ts";
import { LANES } from "../../../regional-gpu/queue/queue-backend.ts";
import type { SimJob } from "./sim-job.ts";

// A region's shared queue, served in the order the node's queue serves it (laneRank: fast >
// standard > relax, FIFO within a lane, one lane up per QUEUE_AGING_MS waited) and taken in batches
// of one batch key (model version and size), as QueueBackend.take does: the next job, then the jobs
// of its key that follow it. Kept as one FIFO per key and lane: within a lane, arrival order is rank
// order, so the next job is the best of at most keys x 3 heads, and the oldest job the oldest head.

class Fifo {
  items: SimJob[] = [];
  head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): SimJob | undefined {
    return this.items[this.head];
  }

  shift(): SimJob {
    const job = this.items[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return job;
  }
}

export class RegionQueue {
  /** [key][lane] */
  private readonly fifos: Fifo[][];
  private readonly agingMs: number;
  readonly depth = { fast: 0, standard: 0, relax: 0 };
  size = 0;

  constructor(keys: number, agingMs: number) {
    this.agingMs = agingMs;
    this.fifos = Array.from({ length: keys }, () => LANES.map(() => new Fifo()));
  }

  push(job: SimJob, now: number): void {
    job.enqueuedAt = now;
    job.rank = laneRank(job.lane, now, this.agingMs);
    this.fifos[job.shape]![job.laneIndex]!.items.push(job);
    this.depth[job.lane]++;
    this.size++;
  }

  /** The batch key of the next job in service order, or -1 when empty. */
  nextKey(): number {
    let best: SimJob | undefined;
    for (const lanes of this.fifos) {
      for (const fifo of lanes) {
        const head = fifo.peek();
        if (
          head &&
          (!best || head.rank < best.rank || (head.rank === best.rank && head.id < best.id))
        )
          best = head;
      }
    }
    return best ? best.shape : -1;
  }

  /** Removes the next job of `key` in service order, or undefined. */
  take(key: number): SimJob | undefined {
    let from: Fifo | undefined;
    for (const fifo of this.fifos[key]!) {
      const head = fifo.peek();
      const best = from?.peek();
      if (
        head &&
        (!best || head.rank < best.rank || (head.rank === best.rank && head.id < best.id))
      )
        from = fifo;
    }
    if (!from) return undefined;
    const job = from.shift();
    this.depth[job.lane]--;
    this.size--;
    return job;
  }

  /** When the oldest queued job was accepted, or null. */
  oldestEnqueuedAt(): number | null {
    let oldest: number | null = null;
    for (const lanes of this.fifos) {
      for (const fifo of lanes) {
        const head = fifo.peek();
        if (head && (oldest === null || head.enqueuedAt < oldest)) oldest = head.enqueuedAt;
      }
    }
    return oldest;
  }

  /** Empties the queue (the region was lost), answering what it held. */
  clear(): SimJob[] {
    const all: SimJob[] = [];
    for (const lanes of this.fifos) {
      for (const fifo of lanes) {
        while (fifo.length > 0) all.push(fifo.shift());
      }
    }
    this.depth.fast = this.depth.standard = this.depth.relax = 0;
    this.size = 0;
    return all;
  }
}
