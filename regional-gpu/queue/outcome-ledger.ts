import type { Redis } from "ioredis";
import { z } from "zod";
import { JobEvent } from "../../contracts/region-protocol.ts";

// The region's record of each job's terminal event, in Redis: the first node to record an outcome
// owns it (SET NX), so a job run twice (its node was thought dead, or was) still has one outcome. The
// record keeps the event until the edge has taken it, so a node that finds an outcome recorded but
// never delivered (its owner died in between) can deliver that same event instead of a second one.
// A cancel is an outcome too: recorded first, it keeps the job from running (a node that fetches it
// drops it) and any event the job's run would send from being sent.

export const OutcomeRecord = z.discriminatedUnion("state", [
  z.object({
    state: z.literal("recorded"),
    node: z.string(),
    callback_url: z.string(),
    event: JobEvent,
  }),
  z.object({ state: z.literal("delivered"), node: z.string() }),
  z.object({
    state: z.literal("canceled"),
    node: z.string(),
    /** What the edge was told: removed before it ran, or too late to stop its batch. */
    answer: z.enum(["canceled", "running"]),
  }),
]);
export type OutcomeRecord = z.infer<typeof OutcomeRecord>;

export interface OutcomeLedgerOptions {
  redis: Redis;
  /** Key prefix, e.g. `{genart:eu-west}:outcome:`. */
  prefix: string;
  nodeId: string;
  /** How long records live: longer than a job can stay in the queue. */
  ttlMs: number;
}

export class OutcomeLedger {
  private readonly opts: OutcomeLedgerOptions;

  constructor(opts: OutcomeLedgerOptions) {
    this.opts = opts;
  }

  /** Records `event` as the job's outcome unless one is recorded: null when this call recorded it. */
  async claim(callbackUrl: string, event: JobEvent): Promise<OutcomeRecord | null> {
    const { redis, nodeId, ttlMs } = this.opts;
    const record: OutcomeRecord = {
      state: "recorded",
      node: nodeId,
      callback_url: callbackUrl,
      event,
    };
    const key = this.key(event.job_id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const set = await redis.set(key, JSON.stringify(record), "PX", ttlMs, "NX");
      if (set === "OK") return null;
      const existing = await this.get(event.job_id);
      // null: it expired between the two commands; try to record again.
      if (existing) return existing;
    }
    throw new Error(`outcome of ${event.job_id} could not be recorded or read`);
  }

  /** Records the job as canceled unless it has an outcome: null when this call recorded it. */
  async cancel(jobId: string, answer: "canceled" | "running"): Promise<OutcomeRecord | null> {
    const { redis, nodeId, ttlMs } = this.opts;
    const record: OutcomeRecord = { state: "canceled", node: nodeId, answer };
    const key = this.key(jobId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const set = await redis.set(key, JSON.stringify(record), "PX", ttlMs, "NX");
      if (set === "OK") return null;
      const existing = await this.get(jobId);
      if (existing) return existing;
    }
    throw new Error(`cancel of ${jobId} could not be recorded or read`);
  }

  /** The edge took the outcome: keep only that fact (a few bytes) for the rest of the TTL. */
  async markDelivered(jobId: string): Promise<void> {
    const record: OutcomeRecord = { state: "delivered", node: this.opts.nodeId };
    await this.opts.redis.set(this.key(jobId), JSON.stringify(record), "KEEPTTL", "XX");
  }

  async get(jobId: string): Promise<OutcomeRecord | null> {
    return this.parse(jobId, await this.opts.redis.get(this.key(jobId)));
  }

  /** The jobs among `jobIds` that are canceled (one round trip). */
  async canceled(jobIds: readonly string[]): Promise<Set<string>> {
    if (jobIds.length === 0) return new Set();
    const raws = await this.opts.redis.mget(jobIds.map((id) => this.key(id)));
    return new Set(jobIds.filter((id, i) => this.parse(id, raws[i] ?? null)?.state === "canceled"));
  }

  private parse(jobId: string, raw: string | null): OutcomeRecord | null {
    if (raw === null) return null;
    const parsed = OutcomeRecord.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new Error(`outcome record of ${jobId} is malformed`);
    return parsed.data;
  }

  private key(jobId: string): string {
    return `${this.opts.prefix}${jobId}`;
  }
}
