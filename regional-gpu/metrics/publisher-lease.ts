import type { Redis } from "ioredis";

// Who sends a region's region-wide scaling figures. On a shared queue every node sees the same
// backlog, so one node (the holder of a short Redis lease) sends them: one datapoint per period,
// not one per node. The lease expires if its holder dies, and the next node to ask takes it over.
// On a node-local queue each node's figures are its own, and every node sends them (the policies'
// Average and Maximum over nodes are then the region's).

export interface PublisherLease {
  /** Takes or renews the lease; true while this node is the region's publisher. */
  hold(): Promise<boolean>;
  /** Gives the lease up (a draining node), so another node takes over at its next sample. */
  release(): Promise<void>;
}

/** Node-local queues: every node publishes its own figures. */
export const EVERY_NODE: PublisherLease = {
  hold: async () => true,
  release: async () => {},
};

// Renew if held, take if free, else refuse: one round trip, atomic.
const HOLD = `
local holder = redis.call("GET", KEYS[1])
if holder == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
  return 1
end
return 0`;

const RELEASE = `
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`;

export interface RedisPublisherLeaseOptions {
  redis: Redis;
  key: string;
  nodeId: string;
  /** How long the lease outlives its holder's last renewal. */
  ttlMs: number;
}

export class RedisPublisherLease implements PublisherLease {
  private readonly opts: RedisPublisherLeaseOptions;

  constructor(opts: RedisPublisherLeaseOptions) {
    this.opts = opts;
  }

  async hold(): Promise<boolean> {
    const { redis, key, nodeId, ttlMs } = this.opts;
    return (await redis.eval(HOLD, 1, key, nodeId, String(ttlMs))) === 1;
  }

  async release(): Promise<void> {
    const { redis, key, nodeId } = this.opts;
    await redis.eval(RELEASE, 1, key, nodeId);
  }
}
