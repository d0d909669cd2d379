import { Redis } from "ioredis";
import { settleWithin } from "../../contracts/settle-within.ts";
import type { RegionNodeConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { OutcomeLedger } from "./outcome-ledger.ts";
import { OutcomeReporter, type JobEventSink } from "./outcome-reporter.ts";
import { SharedQueueBackend } from "./shared-queue-backend.ts";
import { sharedQueueKeys, type SharedQueueKeys } from "./shared-queue-keys.ts";

// Builds a node's side of its region's shared queue (REDIS_URL set): the BullMQ backend, and the event
// sink the scheduler must send job events through so that each job has one outcome.

export interface SharedQueueConfig {
  redisUrl: string;
  region: string;
  nodeId: string;
  agingMs: number;
  lockMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** Delivers events to the edge (the node's EventSender). */
  events: JobEventSink;
  logger: Logger;
  /** How long to wait for Redis at start before failing (default 15 s). */
  connectTimeoutMs?: number;
}

export interface SharedQueue {
  backend: SharedQueueBackend;
  /** Use in place of the EventSender for job events. */
  events: OutcomeReporter;
  /** The node's own connection (closed by backend.close()), for region-wide roles. */
  redis: Redis;
  keys: SharedQueueKeys;
}

/** Markers live a day: far longer than a job waits, and than the edge retries a dispatch. */
const MARKER_TTL_MS = 24 * 3600 * 1000;

/** The URL without its password, for logs and errors. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable REDIS_URL)";
  }
}

/** Resolves once Redis answers a PING; fails clearly (and stops reconnecting) after `timeoutMs`. */
async function reachable(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let problem = "no answer";
  while (Date.now() < deadline) {
    try {
      if ((await settleWithin(redis.ping(), Math.max(1, deadline - Date.now()))).settled) return;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
      await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now()))));
    }
  }
  redis.disconnect();
  throw new Error(`Redis at ${redactRedisUrl(url)} unreachable for ${timeoutMs} ms: ${problem}`);
}

export async function startSharedQueue(config: SharedQueueConfig): Promise<SharedQueue> {
  const logger = config.logger.child({ queue: "shared" });
  const keys = sharedQueueKeys(config.region);
  // Checked first, so that an unreachable Redis fails the start before BullMQ opens its connections
  // (which retry forever).
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  redis.on("error", () => {});
  await reachable(redis, config.redisUrl, config.connectTimeoutMs ?? 15_000);
  const ledger = new OutcomeLedger({
    redis,
    prefix: keys.outcome,
    nodeId: config.nodeId,
    ttlMs: MARKER_TTL_MS,
  });
  const events = new OutcomeReporter({ ledger, events: config.events, logger });
  const backend = new SharedQueueBackend({
    connection: { url: config.redisUrl },
    redis,
    keys,
    region: config.region,
    nodeId: config.nodeId,
    agingMs: config.agingMs,
    lockMs: config.lockMs,
    stalledIntervalMs: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
    acceptedTtlMs: MARKER_TTL_MS,
    ledger,
    reporter: events,
    logger,
  });
  try {
    await backend.start();
  } catch (err) {
    await backend.close();
    throw err;
  }
  logger.info("shared queue ready", {
    redis: redactRedisUrl(config.redisUrl),
    queue: `${keys.prefix}:${keys.queueName}`,
  });
  return { backend, events, redis, keys };
}

/** The node's shared queue when REDIS_URL is configured, else null (the in-process queue serves). */
export function sharedQueueFor(
  config: RegionNodeConfig,
  events: JobEventSink,
  logger: Logger,
): Promise<SharedQueue | null> {
  if (!config.redisUrl) return Promise.resolve(null);
  return startSharedQueue({
    redisUrl: config.redisUrl,
    region: config.regionName,
    nodeId: config.nodeId,
    agingMs: config.queueAgingMs,
    lockMs: config.queueLockMs,
    stalledIntervalMs: config.queueStalledIntervalMs,
    maxStalledCount: config.queueMaxStalledCount,
    events,
    logger,
  });
}
