import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, Worker, type Job, type RedisOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { HeldJobs, JobEvent } from "../../contracts/region-protocol.ts";
import { settleWithin } from "../../contracts/settle-within.ts";
import { JOB_FAILURE, QueueUnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { LANE_PRIORITY, LaneAging } from "./lane-aging.ts";
import type { OutcomeLedger, OutcomeRecord } from "./outcome-ledger.ts";
import type { OutcomeReporter } from "./outcome-reporter.ts";
import type { CancelState, LaneDepths, QueueBackend, QueueEntry } from "./queue-backend.ts";
import { QueueEntryData } from "./queue-entry-data.ts";
import { bullJobId, jobIdOf, type SharedQueueKeys } from "./shared-queue-keys.ts";

// The region's queue on Redis, shared by all its nodes (BullMQ). Lanes are BullMQ priorities, aged by
// LaneAging. Jobs are fetched by hand (a Worker without a processor, getNextJob): the batcher asks for
// "up to N jobs of this model version and shape", which a processor callback per job cannot express.
// So this node holds the lock of each job it fetched (renewed every lockMs / 2) from fetch until the
// job's terminal event reached the edge; a node that dies stops renewing, and BullMQ's stalled check
// (every node runs it) puts its jobs back for another node. A fetched job of another batch key waits
// here (at most `max` of them) for a later batch. A job with an outcome already recorded (it ran on a
// node that died before acknowledging it) is not run again: its recorded event is delivered instead.
// A cancel, on whichever node it lands, records a `canceled` outcome first (so no node runs the job
// from then on, and no event of a run already under way is sent), then removes the job from Redis if
// it is still waiting, or drops it here if this node holds it unstarted.

export interface SharedQueueOptions {
  /** BullMQ's connections (it opens its own: one blocking for wake-ups, one per queue and worker). */
  connection: RedisOptions;
  /** For this node's own commands (markers, aging lock, node list); closed by close(). */
  redis: Redis;
  keys: SharedQueueKeys;
  region: string;
  nodeId: string;
  agingMs: number;
  /** How long a fetched job stays this node's without renewal; renewed every lockMs / 2. */
  lockMs: number;
  /** How often each node looks for jobs whose lock expired. */
  stalledIntervalMs: number;
  /** Recoveries of one job before it is failed (`node_lost`) instead of run again. */
  maxStalledCount: number;
  /** How long accepted-job markers live (a repeat of the job id within it is a duplicate). */
  acceptedTtlMs: number;
  ledger: OutcomeLedger;
  reporter: OutcomeReporter;
  logger: Logger;
}

type HeldState = "staged" | "running" | "finishing";

interface Held {
  entry: QueueEntry;
  job: Job;
  token: string;
  state: HeldState;
  /** Its lock expired while held (logged once). */
  lockLost?: boolean;
}

/** Longest wait for each step of close(). */
const CLOSE_STEP_MS = 5_000;

/** Waits for `work` at most `ms`; answers whether it succeeded in time. Never rejects. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  try {
    return (await settleWithin(work, ms)).settled;
  } catch {
    return false;
  }
}

const PRIORITIES = [0, LANE_PRIORITY.fast, LANE_PRIORITY.standard, LANE_PRIORITY.relax];

/** BullMQ states of a job no node has fetched: it can be removed. */
const UNFETCHED = new Set(["waiting", "prioritized", "delayed", "waiting-children"]);

/** What a cancel answers for a job that already has an outcome. */
const answerOf = (record: OutcomeRecord): CancelState =>
  record.state === "canceled" ? record.answer : "finished";

/** Lua: the smallest `timestamp` (acceptance time) among waiting jobs, or false when none. */
const OLDEST_WAITING = `
local oldest = false
local function consider(id)
  local ts = tonumber(redis.call("HGET", ARGV[1] .. id, "timestamp"))
  if ts and (not oldest or ts < oldest) then oldest = ts end
end
for _, id in ipairs(redis.call("ZRANGE", KEYS[1], 0, -1)) do consider(id) end
for _, id in ipairs(redis.call("LRANGE", KEYS[2], 0, -1)) do consider(id) end
return oldest`;

export class SharedQueueBackend implements QueueBackend {
  private readonly opts: SharedQueueOptions;
  private readonly queue: Queue;
  private readonly worker: Worker;
  private readonly events: QueueEvents;
  private readonly aging: LaneAging;
  /** Jobs this node holds locks for, by RegionJob id, in fetch order. */
  private readonly held = new Map<string, Held>();
  private readonly acks = new Set<Promise<void>>();
  private readonly listeners: Array<() => void> = [];
  private readonly tokenBase = randomUUID();
  private tokens = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  /** Set at drain: no more jobs are fetched. */
  private released = false;
  /** Set at the first take: from then until the drain this node counts in activeNodes(). */
  private taking = false;
  private renewFailing = false;
  private renewing = false;
  private closing: Promise<void> | null = null;

  constructor(opts: SharedQueueOptions) {
    this.opts = opts;
    const { connection, keys, logger } = opts;
    const base = { connection, prefix: keys.prefix };
    // Intake's commands fail within about a second when Redis is gone (503: try another region);
    // the worker's and the event stream's connections retry until it is back.
    this.queue = new Queue(keys.queueName, {
      ...base,
      connection: { ...connection, maxRetriesPerRequest: 3 },
    });
    this.worker = new Worker(keys.queueName, null, {
      ...base,
      name: opts.nodeId,
      autorun: false,
      lockDuration: opts.lockMs,
      stalledInterval: opts.stalledIntervalMs,
      maxStalledCount: opts.maxStalledCount,
    });
    this.events = new QueueEvents(keys.queueName, base);
    this.aging = new LaneAging({
      queue: this.queue,
      redis: opts.redis,
      lockKey: keys.agingLock,
      nodeId: opts.nodeId,
      agingMs: opts.agingMs,
      logger,
    });
    // Background failures are logged (once per outage: every reconnect attempt errs), never unhandled.
    let failing = false;
    const onError = (err: unknown) => {
      if (!failing) logger.warn("shared queue connection error", { err });
      failing = true;
    };
    opts.redis.on("ready", () => {
      if (failing) logger.info("shared queue connection restored");
      failing = false;
    });
    this.queue.on("error", onError);
    this.worker.on("error", onError);
    this.events.on("error", onError);
    opts.redis.on("error", onError);
    this.worker.on("stalled", (jobId: string) =>
      logger.warn("job lock expired; back on the shared queue", { bull_job_id: jobId }),
    );
    // Jobs added by any node, released at a drain, or recovered from a dead node.
    this.events.on("waiting", () => {
      for (const listener of this.listeners) listener();
    });
  }

  /** Connects, starts the stalled check, lock renewal and aging; resolves once Redis answered. */
  async start(): Promise<void> {
    await Promise.all([
      this.queue.waitUntilReady(),
      this.worker.waitUntilReady(),
      this.events.waitUntilReady(),
    ]);
    await this.seen();
    await this.worker.startStalledCheckTimer();
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, this.opts.lockMs / 2));
    this.aging.start();
  }

  onJobsAvailable(listener: () => void): void {
    this.listeners.push(listener);
  }

  async add(entry: QueueEntry): Promise<{ added: boolean; position: number | null }> {
    try {
      return await this.addToRedis(entry);
    } catch (err) {
      throw new QueueUnavailableError(err);
    }
  }

  private async addToRedis(
    entry: QueueEntry,
  ): Promise<{ added: boolean; position: number | null }> {
    const { redis, keys, nodeId, acceptedTtlMs } = this.opts;
    const id = entry.job.job_id;
    const marker = `${keys.accepted}${id}`;
    const first = await redis.set(marker, nodeId, "PX", acceptedTtlMs, "NX");
    if (first !== "OK") return { added: false, position: null };
    const priority = LANE_PRIORITY[entry.job.priority];
    try {
      await this.queue.add("generation", entry, {
        jobId: bullJobId(id),
        priority,
        timestamp: entry.enqueuedAt,
        attempts: 1,
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      });
    } catch (err) {
      await redis.del(marker).catch(() => undefined);
      throw err;
    }
    const counts = await this.counts();
    let ahead = counts[0] ?? 0;
    for (const p of PRIORITIES.slice(1)) if (p < priority) ahead += counts[p] ?? 0;
    return { added: true, position: ahead + Math.max(0, (counts[priority] ?? 1) - 1) };
  }

  async take(max: number, batchKey?: string): Promise<QueueEntry[]> {
    if (max < 1 || this.released) return [];
    if (!this.taking) {
      this.taking = true;
      // Counted from now; if Redis did not answer, the next lock renewal says it again.
      await this.seen().catch(() => {});
    }
    await this.dropCanceledStaged();
    const staged = [...this.held.values()].filter((h) => h.state === "staged");
    let key = batchKey ?? staged[0]?.entry.batchKey;
    const taken = staged.filter((h) => h.entry.batchKey === key).slice(0, max);
    let others = staged.length - taken.length;
    // Prefetch is bounded: at most `max` jobs of other keys wait here while others could run them.
    while (taken.length < max && others < max && !this.released) {
      const next = await this.fetch();
      if (!next) break;
      key ??= next.entry.batchKey;
      if (next.entry.batchKey === key) taken.push(next);
      else others++;
    }
    for (const h of taken) h.state = "running";
    return taken.map((h) => h.entry);
  }

  async cancel(jobId: string): Promise<CancelState> {
    try {
      return await this.cancelInRedis(jobId);
    } catch (err) {
      throw new QueueUnavailableError(err);
    }
  }

  private async cancelInRedis(jobId: string): Promise<CancelState> {
    const { ledger, redis, keys } = this.opts;
    const recorded = await ledger.get(jobId);
    if (recorded) return answerOf(recorded);
    const held = this.held.get(jobId);
    if (held?.state === "staged") {
      const existing = await ledger.cancel(jobId, "canceled");
      if (existing) return answerOf(existing);
      this.drop(held);
      return "canceled";
    }
    if (!held) {
      if ((await redis.exists(`${keys.accepted}${jobId}`)) === 0) return "unknown";
      const bullId = bullJobId(jobId);
      const state = await this.queue.getJobState(bullId);
      // remove() answers 0 when a node has fetched the job meanwhile (it is locked).
      if (UNFETCHED.has(state) && (await this.queue.remove(bullId)) === 1) {
        const existing = await ledger.cancel(jobId, "canceled");
        return existing ? answerOf(existing) : "canceled";
      }
      if (!UNFETCHED.has(state) && state !== "active") {
        // Acknowledged (or its record expired): it ran, unless a concurrent cancel just removed it.
        const again = await ledger.get(jobId);
        return again ? answerOf(again) : "finished";
      }
    }
    // Running here, or held by some node: if that node has not started it, it drops it at its next
    // take; if it has, its outcome is not sent. Either way the edge is told `running`.
    const existing = await ledger.cancel(jobId, "running");
    return existing ? answerOf(existing) : "running";
  }

  /** Drops staged jobs that were canceled since they were fetched (on any node). */
  private async dropCanceledStaged(): Promise<void> {
    const staged = [...this.held.values()].filter((h) => h.state === "staged");
    if (staged.length === 0) return;
    const canceled = await this.opts.ledger
      .canceled(staged.map((h) => h.entry.job.job_id))
      .catch((err: unknown) => {
        // Run them: a canceled job's outcome is still not sent (the reporter finds the cancel).
        this.opts.logger.warn("could not check staged jobs for cancels", { err });
        return new Set<string>();
      });
    for (const h of staged) if (canceled.has(h.entry.job.job_id)) this.drop(h);
  }

  /** A canceled job this node holds unstarted: acknowledged, never run. */
  private drop(held: Held): void {
    held.state = "finishing";
    this.opts.logger.info("job canceled before it started; dropped", {
      job_id: held.entry.job.job_id,
      request_id: held.entry.job.request_id,
    });
    this.track(this.complete(held));
  }

  /** Acknowledges each job once its terminal event settled, without holding up the caller. */
  async finish(jobIds: readonly string[]): Promise<void> {
    for (const id of jobIds) {
      const held = this.held.get(id);
      if (!held || held.state === "finishing") continue;
      held.state = "finishing";
      const settled = this.opts.reporter.settled(id) ?? Promise.resolve(true);
      this.track(settled.then(() => this.complete(held)));
    }
  }

  /** Stops fetching (the node drains) and answers the jobs fetched but not started. */
  async removeQueued(): Promise<QueueEntry[]> {
    this.released = true;
    this.track(this.seen().catch(() => {}));
    return [...this.held.values()].filter((h) => h.state === "staged").map((h) => h.entry);
  }

  /** Puts unstarted jobs back at the head of their lane for another node. */
  async release(entries: readonly QueueEntry[]): Promise<void> {
    this.released = true;
    await Promise.all(
      entries.map(async ({ job }) => {
        const held = this.held.get(job.job_id);
        if (!held || held.state === "finishing") return;
        this.held.delete(job.job_id);
        await held.job.moveToWait(held.token).catch((err: unknown) => {
          // Its lock expired already: the stalled check returns it to the queue.
          this.opts.logger.warn("could not release job", { job_id: job.job_id, err });
        });
      }),
    );
  }

  async depth(): Promise<LaneDepths> {
    const c = await this.counts().catch((err: unknown) => {
      throw new QueueUnavailableError(err);
    });
    // The plain wait list (recovered jobs) is served before every lane.
    return {
      fast: (c[0] ?? 0) + (c[LANE_PRIORITY.fast] ?? 0),
      standard: c[LANE_PRIORITY.standard] ?? 0,
      relax: c[LANE_PRIORITY.relax] ?? 0,
    };
  }

  async running(): Promise<number> {
    let n = 0;
    for (const h of this.held.values()) if (h.state === "running") n++;
    return n;
  }

  /**
   * The region's jobs, read from Redis in one round trip: waiting (every lane), active (fetched by a
   * node, until its outcome reached the edge) and paused. A job of a node that died stays active
   * until the stalled check puts it back: it is still the region's.
   */
  async heldJobs(max: number): Promise<HeldJobs> {
    const { keys } = this.queue;
    const replies = await this.opts.redis
      .multi()
      .zrange(keys.prioritized!, "0", String(max))
      .lrange(keys.wait!, 0, max)
      .lrange(keys.active!, 0, max)
      .lrange(keys.paused!, 0, max)
      .exec()
      .catch((err: unknown) => {
        throw new QueueUnavailableError(err);
      });
    const ids = new Set<string>(this.held.keys());
    let complete = true;
    for (const [err, reply] of replies ?? []) {
      if (err) throw new QueueUnavailableError(err);
      const bullIds = reply as string[];
      if (bullIds.length > max) complete = false;
      for (const bullId of bullIds) {
        const jobId = jobIdOf(bullId);
        if (jobId !== null) ids.add(jobId);
      }
    }
    const jobs = [...ids];
    return { scope: "region", jobs: jobs.slice(0, max), complete: complete && jobs.length <= max };
  }

  async oldestEnqueuedAt(): Promise<number | null> {
    const { keys } = this.queue;
    const oldest = await this.opts.redis.eval(
      OLDEST_WAITING,
      2,
      keys.prioritized!,
      keys.wait!,
      this.queue.toKey(""),
    );
    return typeof oldest === "number" ? oldest : null;
  }

  /** BullMQ's active jobs: fetched by some node (staged or running) and not yet acknowledged. */
  async activeJobs(): Promise<number> {
    return this.queue.getActiveCount();
  }

  async activeNodes(): Promise<number> {
    const since = Date.now() - this.opts.lockMs;
    return Math.max(1, await this.opts.redis.zcount(this.opts.keys.nodes, since, "+inf"));
  }

  /**
   * Waits for pending acknowledgements, then closes every connection. Jobs still held (running past
   * the drain deadline) keep their locks only until they expire; then another node takes them.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.released = true;
    clearInterval(this.renewTimer);
    const agingStopped = this.aging.stop();
    // Bounded: a Redis that stopped answering must not hold up the node's exit.
    const settled = async () => {
      await agingStopped;
      await this.opts.reporter.idle();
      await Promise.all(this.acks);
      await this.opts.redis.zrem(this.opts.keys.nodes, this.opts.nodeId);
    };
    // Acknowledgements cannot reach a Redis that is gone; the locks expire and the jobs come back.
    const answered = this.opts.redis.status === "ready" && (await within(settled(), CLOSE_STEP_MS));
    const closed = Promise.allSettled([
      this.worker.close(),
      this.events.close(),
      this.queue.close(),
    ]);
    // BullMQ's closes wait for a connection: not worth waiting for once Redis stopped answering.
    if (answered) await within(closed, CLOSE_STEP_MS);
    this.opts.redis.disconnect();
  }

  private async counts(): Promise<Record<number, number>> {
    const byPriority = await this.queue.getCountsPerPriority(PRIORITIES);
    return Object.fromEntries(Object.entries(byPriority).map(([p, n]) => [Number(p), n]));
  }

  /** The next job from Redis this node may run, now held here; null when none is waiting. */
  private async fetch(): Promise<Held | null> {
    while (!this.released) {
      const token = `${this.tokenBase}:${this.tokens++}`;
      const job = (await this.worker.getNextJob(token, { block: false })) as Job | undefined;
      if (!job) return null;
      const held = await this.admit(job, token);
      if (held) return held;
    }
    return null;
  }

  private async admit(job: Job, token: string): Promise<Held | null> {
    const { logger, ledger, reporter } = this.opts;
    const parsed = QueueEntryData.safeParse(job.data);
    if (!parsed.success) {
      logger.error("malformed job on the shared queue; failed", { bull_job_id: job.id });
      await job.moveToFailed(new Error("malformed queue entry"), token, false).catch(() => {});
      return null;
    }
    const entry = parsed.data;
    const mine = this.held.get(entry.job.job_id);
    if (mine) {
      // Back on the queue after this node missed a renewal, and fetched again: it is already
      // staged or running here; carry on under the new lock.
      mine.job = job;
      mine.token = token;
      mine.lockLost = false;
      return null;
    }
    const held: Held = { entry, job, token, state: "staged" };
    if (this.released) {
      await job.moveToWait(token).catch(() => {});
      return null;
    }
    if (job.deferredFailure) {
      // Its nodes died maxStalledCount + 1 times: tell the edge rather than kill another node.
      held.state = "finishing";
      this.held.set(entry.job.job_id, held);
      const event = this.lostEvent(entry, job.deferredFailure);
      this.track(
        reporter.send(entry.job.callback_url, event).then(() => this.complete(held, "failed")),
      );
      return null;
    }
    const outcome = await ledger.get(entry.job.job_id).catch(() => null);
    if (outcome) {
      held.state = "finishing";
      this.held.set(entry.job.job_id, held);
      const delivered = outcome.state === "recorded" ? reporter.redeliver(outcome) : null;
      logger.info("job already has an outcome; not run again", {
        job_id: entry.job.job_id,
        request_id: entry.job.request_id,
        outcome: outcome.state,
      });
      this.track((delivered ?? Promise.resolve(true)).then(() => this.complete(held)));
      return null;
    }
    this.held.set(entry.job.job_id, held);
    return held;
  }

  private lostEvent(entry: QueueEntry, reason: string): JobEvent {
    const { job } = entry;
    return {
      type: "failed",
      job_id: job.job_id,
      region: this.opts.region,
      request_id: job.request_id,
      at: new Date().toISOString(),
      error: {
        code: JOB_FAILURE.nodeLost,
        message: `the nodes running this job stopped: ${reason}`,
      },
      retryable: false,
    };
  }

  /** Moves the job to BullMQ's completed (or failed) set; a lost lock means another node has it. */
  private async complete(held: Held, as: "completed" | "failed" = "completed"): Promise<void> {
    const { job, token, entry } = held;
    try {
      if (as === "completed") await job.moveToCompleted("settled", token, false);
      else await job.moveToFailed(new Error(job.deferredFailure ?? "failed"), token, false);
    } catch (err) {
      this.opts.logger.warn("could not acknowledge job", { job_id: entry.job.job_id, err });
    } finally {
      if (this.held.get(entry.job.job_id) === held) this.held.delete(entry.job.job_id);
    }
  }

  private track(work: Promise<void>): void {
    this.acks.add(work);
    void work.finally(() => this.acks.delete(work));
  }

  /**
   * Says whether this node takes jobs (for activeNodes): from its first take until it drains. A
   * node loading its models is not capacity yet, and a draining one no longer is; a node that
   * died stops saying so and drops out after lockMs.
   */
  private async seen(): Promise<void> {
    const { redis, keys, nodeId } = this.opts;
    const now = Date.now();
    const tx = redis.multi();
    if (this.taking && !this.released) tx.zadd(keys.nodes, now, nodeId);
    else tx.zrem(keys.nodes, nodeId);
    // Node ids change with every restart: forget those not seen for an hour.
    await tx.zremrangebyscore(keys.nodes, "-inf", now - 3_600_000).exec();
  }

  /** Extends the locks of every held job; a job whose lock was lost is dropped if not started. */
  private async renew(): Promise<void> {
    // One renewal at a time: while Redis is away, calls would otherwise pile up.
    if (this.renewing) return;
    this.renewing = true;
    try {
      await this.renewHeld();
    } finally {
      this.renewing = false;
    }
  }

  private async renewHeld(): Promise<void> {
    const held = [...this.held.values()];
    try {
      await this.seen();
      if (held.length === 0) return;
      const lost = new Set(
        await this.worker.extendJobLocks(
          held.map((h) => h.job.id!),
          held.map((h) => h.token),
          this.opts.lockMs,
        ),
      );
      for (const h of held) {
        if (!lost.has(h.job.id!) || h.lockLost) continue;
        // The stalled check may give it to another node; the OutcomeLedger keeps one outcome.
        h.lockLost = true;
        this.opts.logger.warn("lost the lock of a job", {
          job_id: h.entry.job.job_id,
          state: h.state,
        });
        if (h.state === "staged") this.held.delete(h.entry.job.job_id);
      }
      if (this.renewFailing) this.opts.logger.info("job lock renewal works again");
      this.renewFailing = false;
    } catch (err) {
      if (!this.renewFailing) this.opts.logger.warn("job lock renewal failing", { err });
      this.renewFailing = true;
    }
  }
}
