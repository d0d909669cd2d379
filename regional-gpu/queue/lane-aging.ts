import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Priority } from "../../contracts/api.ts";
import type { Logger } from "../log.ts";
import { QueueEntryData } from "./queue-entry-data.ts";

// Lanes of the shared queue as BullMQ priorities (lower runs first), and the aging that keeps a relax
// job's wait bounded: every agingMs a job has waited moves it up one lane, so a relax job is in the
// fast lane after 2 * agingMs however many fast jobs keep arriving. One node of the region sweeps at a
// time (a Redis lock per sweep); a promoted job joins the end of its new lane.

export const LANE_PRIORITY: Readonly<Record<Priority, number>> = { fast: 1, standard: 2, relax: 3 };

/** The priority a job of `lane` has after waiting `waitedMs`. */
export function agedPriority(lane: Priority, waitedMs: number, agingMs: number): number {
  const steps = Math.max(0, Math.floor(waitedMs / agingMs));
  return Math.max(LANE_PRIORITY.fast, LANE_PRIORITY[lane] - steps);
}

export interface LaneAgingOptions {
  queue: Queue;
  redis: Redis;
  /** Key of the sweep lock. */
  lockKey: string;
  nodeId: string;
  agingMs: number;
  logger: Logger;
  now?: () => number;
}

export class LaneAging {
  private readonly opts: LaneAgingOptions;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | null = null;

  constructor(opts: LaneAgingOptions) {
    this.opts = opts;
    // Often enough that a promotion is at most a quarter of agingMs late.
    this.intervalMs = Math.min(5_000, Math.max(100, Math.floor(opts.agingMs / 4)));
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** Promotes every waiting job whose age says so; answers how many moved. */
  async sweep(): Promise<number> {
    const { queue, agingMs } = this.opts;
    const now = (this.opts.now ?? Date.now)();
    const counts = await queue.getCountsPerPriority([LANE_PRIORITY.fast]);
    // The prioritized set is ordered by priority: skip the fast lane, which cannot move up.
    const waiting = await queue.getPrioritized(counts[LANE_PRIORITY.fast] ?? 0, -1);
    let moved = 0;
    for (const job of waiting) {
      const entry = QueueEntryData.safeParse(job.data);
      if (!entry.success) continue;
      const target = agedPriority(entry.data.job.priority, now - entry.data.enqueuedAt, agingMs);
      if (job.priority > target) {
        await job.changePriority({ priority: target });
        moved++;
      }
    }
    return moved;
  }

  private async tick(): Promise<void> {
    if (this.sweeping) return;
    const { redis, lockKey, nodeId, logger } = this.opts;
    const run = async () => {
      // One sweeper per interval across the region's nodes.
      const locked = await redis.set(lockKey, nodeId, "PX", this.intervalMs, "NX");
      if (locked !== "OK") return 0;
      const moved = await this.sweep();
      if (moved > 0) logger.debug("queue aging promoted jobs", { moved });
      return moved;
    };
    this.sweeping = run().catch((err: unknown) => {
      logger.warn("queue aging sweep failed", { err });
      return 0;
    });
    await this.sweeping;
    this.sweeping = null;
  }
}
