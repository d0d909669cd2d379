import type { Redis } from "ioredis";
import { z } from "zod";
import { JobEvent } from "../../contracts/region-protocol.ts";

// The region's record of each job's terminal event, in Redis: the first node to record an outcome
// owns it (SET NX), so a job run twice (its node was thought dead, or was) still has one outcome. The
// record keeps the event until the edge has taken it, so a node that finds an outcome recorded but
// never delivered (its owner died in between) can deliver that same event instead of a second one.

export const OutcomeRecord = z.discriminatedUnion("state", [
  z.object({
    state: z.literal("recorded"),
    node: z.string(),
    callback_url: z.string(),
    event: JobEvent,
  }),
  z.object({ state: z.literal("delivered"), node: z.string() }),
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

  /** The edge took the outcome: keep only that fact (a few bytes) for the rest of the TTL. */
  async markDelivered(jobId: string): Promise<void> {
    const record: OutcomeRecord = { state: "delivered", node: this.opts.nodeId };
    await this.opts.redis.set(this.key(jobId), JSON.stringify(record), "KEEPTTL", "XX");
  }

  async get(jobId: string): Promise<OutcomeRecord | null> {
    const raw = await this.opts.redis.get(this.key(jobId));
    if (raw === null) return null;
    const parsed = OutcomeRecord.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new Error(`outcome record of ${jobId} is malformed`);
    return parsed.data;
  }

  private key(jobId: string): string {
    return `${this.opts.prefix}${jobId}`;
  }
}
