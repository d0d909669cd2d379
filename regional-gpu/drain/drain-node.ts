import { settleWithin } from "../../contracts/settle-within.ts";
import type { Logger } from "../log.ts";
import type { NodeLifecycle } from "../lifecycle.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import { totalDepth } from "../queue/job-queue.ts";
import type { QueueEntry } from "../queue/queue-backend.ts";

// A graceful drain, all of it within `timeoutMs`:
//   1. /readyz and intake answer 503 (the lifecycle says draining), a draining heartbeat goes out;
//   2. jobs not started go back: to the shared queue when the backend can take them (another node
//      runs them), else to the edge as `failed` + `retryable` (it routes them to another region);
//   3. the running batch finishes, or at the deadline is abandoned (released or reported failed);
//   4. pending job events are flushed, the heartbeat stops, the server and the model pool close.
// Every step after 2 is bounded, so a hung edge or model load cannot hold the process past it.

export interface DrainParts {
  lifecycle: NodeLifecycle;
  queue: JobQueue;
  scheduler: {
    failQueued(message: string): Promise<number>;
    stop(
      timeoutMs: number,
      release?: (entries: readonly QueueEntry[]) => Promise<void>,
    ): Promise<number>;
    inFlight(): number;
  };
  /** Flushes pending job events for at most `timeoutMs`. */
  flushEvents(timeoutMs: number): Promise<void>;
  heartbeat: { beat(): Promise<void>; stop(): Promise<void> } | null;
  closeServer(): Promise<void>;
  closeModels(): Promise<void>;
  /** Whether a session.run is still executing (it cannot be interrupted). */
  executorBusy?: () => boolean;
  logger: Logger;
  timeoutMs: number;
  now?: () => number;
}

export interface DrainReport {
  /** Unstarted jobs put back on the shared queue. */
  released: number;
  /** Unstarted jobs handed back to the edge (failed, retryable). */
  rerouted: number;
  /** Jobs still running at the deadline. */
  abandoned: number;
  /**
   * A native session.run was still executing when the drain ended. ONNX Runtime cannot interrupt a
   * run, and tearing down its thread mid-run aborts the process, so the caller must end the process
   * without teardown (main.ts: SIGKILL to itself) rather than exit normally.
   */
  executorBusy: boolean;
  drainMs: number;
}

/** Part of the budget kept for flushing events and closing, after the running batch. */
const closingReserveMs = (timeoutMs: number) => Math.min(2_000, timeoutMs * 0.2);

/** Resolves when `work` settles or after `ms`, whichever is first; never rejects. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  await settleWithin(work, ms).catch(() => undefined);
}

export async function drainNode(parts: DrainParts): Promise<DrainReport> {
  const { lifecycle, queue, scheduler, logger, timeoutMs } = parts;
  const now = parts.now ?? Date.now;
  const started = now();
  const left = () => Math.max(0, timeoutMs - (now() - started));

  lifecycle.beginDrain();
  const depth = await queue.depth().catch(() => null);
  logger.info("draining", {
    queued: depth && totalDepth(depth),
    in_flight: scheduler.inFlight(),
    timeout_ms: timeoutMs,
  });
  // Not awaited: the edge should hear "draining" at once, but a slow edge must not delay the drain.
  const drainingBeat = parts.heartbeat?.beat() ?? Promise.resolve();

  let released = 0;
  let rerouted = 0;
  try {
    if (queue.canRelease) {
      const unstarted = await queue.removeQueued();
      await queue.release(unstarted);
      released = unstarted.length;
    } else {
      rerouted = await scheduler.failQueued("region node is draining; route the job elsewhere");
    }
  } catch (err) {
    logger.error("could not hand back queued jobs", { err });
  }

  const release = queue.canRelease
    ? (entries: readonly QueueEntry[]) => queue.release(entries)
    : undefined;
  const abandoned = await scheduler.stop(left() - closingReserveMs(timeoutMs), release);
  await within(parts.flushEvents(left()), left());
  await within(drainingBeat, left());
  await within(parts.heartbeat?.stop() ?? Promise.resolve(), left());
  await within(parts.closeServer(), left());
  await within(parts.closeModels(), left());
  lifecycle.markStopped();
  const executorBusy = parts.executorBusy?.() ?? false;
  const report = { released, rerouted, abandoned, executorBusy, drainMs: now() - started };
  logger.info("stopped", {
    released,
    rerouted,
    abandoned,
    executor_busy: executorBusy,
    drain_ms: report.drainMs,
  });
  return report;
}
