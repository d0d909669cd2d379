import type { HeldJobs, JobAccepted } from "../../contracts/region-protocol.ts";
import type { CancelState, LaneDepths, QueueBackend, QueueEntry } from "./queue-backend.ts";

// The node's view of its queue: a bound on waiting jobs, idempotent intake (a job id seen while queued
// or running gets the answer it got the first time, and is not queued twice), idempotent cancels,
// and wake-ups for the scheduler. Storage and ordering belong to the injected QueueBackend.

export interface JobQueueOptions {
  /** Queued jobs (all lanes) at which new jobs are refused. */
  maxDepth: number;
}

export type EnqueueResult =
  | { kind: "added"; answer: JobAccepted }
  | { kind: "duplicate"; answer: JobAccepted }
  | { kind: "full"; depth: number };

export const totalDepth = (d: LaneDepths) => d.fast + d.standard + d.relax;

const MAX_ANSWERS = 10_000;

/** Sets `key` in a map that keeps its newest `MAX_ANSWERS` entries. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_ANSWERS) map.delete(map.keys().next().value!);
}

export class JobQueue {
  private readonly backend: QueueBackend;
  private readonly maxDepth: number;
  /** Answers given for jobs still queued or running. */
  private readonly answers = new Map<string, JobAccepted>();
  /** Answers given to cancels (a repeat gets the same one); `running` ones have their output dropped. */
  private readonly cancels = new Map<string, CancelState>();
  /** Jobs that finished here lately, so a late cancel is told `finished` rather than `unknown`. */
  private readonly finished = new Map<string, true>();
  private waiters: Array<() => void> = [];

  constructor(backend: QueueBackend, opts: JobQueueOptions) {
    this.backend = backend;
    this.maxDepth = opts.maxDepth;
    backend.onJobsAvailable?.(() => this.wake());
  }

  /** Queues the job unless it is a duplicate or the queue is full; `answer` builds the 202 body. */
  async enqueue(
    entry: QueueEntry,
    answer: (position: number) => JobAccepted,
  ): Promise<EnqueueResult> {
    const id = entry.job.job_id;
    const known = this.answers.get(id);
    if (known) return { kind: "duplicate", answer: known };
    const depth = totalDepth(await this.backend.depth());
    if (depth >= this.maxDepth) return { kind: "full", depth };
    const { added, position } = await this.backend.add(entry);
    if (!added) {
      // Queued or running elsewhere (a shared backend) without an answer from this node.
      const again = this.answers.get(id) ?? answer(position ?? 0);
      return { kind: "duplicate", answer: again };
    }
    const accepted = answer(position ?? 0);
    this.answers.set(id, accepted);
    // On a shared queue another node may finish the job, so its answer is never forgotten here: keep
    // only the newest (a repeat beyond them gets a fresh answer; the backend still refuses it).
    if (this.answers.size > MAX_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
    this.wake();
    return { kind: "added", answer: accepted };
  }

  take(max: number, batchKey?: string): Promise<QueueEntry[]> {
    return this.backend.take(max, batchKey);
  }

  async finish(jobIds: readonly string[]): Promise<void> {
    for (const id of jobIds) {
      this.answers.delete(id);
      remember(this.finished, id, true);
    }
    await this.backend.finish(jobIds);
  }

  /**
   * Cancels a job: removed if still queued (`canceled`; its intake answer is kept, so a repeat of the
   * job is not queued again), left to run if taken (`running`: see `discards`). Idempotent.
   */
  async cancel(jobId: string): Promise<CancelState> {
    const known = this.cancels.get(jobId);
    if (known) return known;
    let state = await this.backend.cancel(jobId);
    if (state === "unknown" && this.finished.has(jobId)) state = "finished";
    if (state !== "unknown") remember(this.cancels, jobId, state);
    return state;
  }

  /** True for a job canceled after it was taken: its output is discarded, its outcome not sent. */
  discards(jobId: string): boolean {
    return this.cancels.get(jobId) === "running";
  }

  /** Removes every job not yet started; the caller reports them and then calls finish. */
  removeQueued(): Promise<QueueEntry[]> {
    return this.backend.removeQueued();
  }

  depth(): Promise<LaneDepths> {
    return this.backend.depth();
  }

  running(): Promise<number> {
    return this.backend.running();
  }

  /** The jobs the queue answers for (see QueueBackend.held). */
  heldJobs(max: number): Promise<HeldJobs> {
    return this.backend.heldJobs(max);
  }

  /** True when unstarted jobs can go back to a queue other nodes take from (see release). */
  get canRelease(): boolean {
    return this.backend.release !== undefined;
  }

  /** Puts unstarted jobs back on the shared queue for another node; forgets their answers here. */
  async release(entries: readonly QueueEntry[]): Promise<void> {
    if (!this.backend.release) throw new Error("this queue backend cannot release jobs");
    for (const { job } of entries) this.answers.delete(job.job_id);
    await this.backend.release(entries);
  }

  /** Epoch ms the oldest queued job was accepted, or null when none is queued (or not known). */
  async oldestEnqueuedAt(): Promise<number | null> {
    return (await this.backend.oldestEnqueuedAt?.()) ?? null;
  }

  /** Jobs taken from this queue and not finished, on every node taking from it. */
  async activeJobs(): Promise<number> {
    return (await this.backend.activeJobs?.()) ?? (await this.backend.running());
  }

  /** Nodes taking from this queue: 1 for a node-local queue. */
  async activeNodes(): Promise<number> {
    return (await this.backend.activeNodes?.()) ?? 1;
  }

  /** Releases the backend's connections; the last call of a stopping node. */
  async close(): Promise<void> {
    await this.backend.close?.();
  }

  /** Resolves at the next enqueue, after `timeoutMs`, or when `signal` aborts, whichever is first. */
  waitForJobs(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      if (signal?.aborted) done();
      else this.waiters.push(done);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }
}
