import { testKey } from "../testing/signed-client.ts";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Priority } from "../../contracts/api.ts";
import { REGION_PATHS, type JobEvent, type RegionJob } from "../../contracts/region-protocol.ts";
import { QueueUnavailableError } from "../errors.ts";
import { EventSender } from "../events/event-sender.ts";
import { createLogger } from "../log.ts";
import { startEdgeStub, type EdgeStub } from "../testing/edge-stub.ts";
import {
  REDIS_MISSING,
  redisServerInstalled,
  startRedisServer,
  type RedisServer,
} from "../testing/redis-server.ts";
import { agedPriority, LaneAging } from "./lane-aging.ts";
import { OutcomeLedger } from "./outcome-ledger.ts";
import { OutcomeReporter } from "./outcome-reporter.ts";
import { batchKeyOf, type QueueEntry } from "./queue-backend.ts";
import { startSharedQueue, type SharedQueue } from "./shared-queue.ts";
import { sharedQueueKeys } from "./shared-queue-keys.ts";

// The shared queue against a real redis-server: two "nodes" are two backends on one Redis, each
// sending events through a real EventSender to a stub edge that records what it took in.

const SECRET = "shared-queue-test-secret";
const installed = redisServerInstalled();
if (!installed) console.warn(`shared-queue-backend.test.ts: ${REDIS_MISSING}`);

let redis: RedisServer;
let edge: EdgeStub;
let region: string;
let regionSeq = 0;
let lines: string[];
const open: SharedQueue[] = [];

const logger = () => createLogger({ level: "debug", write: (l) => lines.push(l) });

function entry(id: string, priority: Priority, over: Partial<RegionJob> = {}, at = Date.now()) {
  const job: RegionJob = {
    job_id: id,
    request_id: `req_${id}`,
    account_id: "acct_test",
    project_id: null,
    model: "cppn-glove",
    model_version: "v1",
    prompt: "harbour",
    negative_prompt: null,
    width: 64,
    height: 64,
    seed: 1,
    priority,
    callback_url: `${edge.url}${REGION_PATHS.events(region)}`,
    submitted_at: new Date(at).toISOString(),
    ...over,
  };
  return { job, batchKey: batchKeyOf(job), enqueuedAt: at } satisfies QueueEntry;
}

async function node(
  nodeId: string,
  over: { lockMs?: number; agingMs?: number; maxStalledCount?: number; url?: string } = {},
) {
  const q = await startSharedQueue({
    redisUrl: over.url ?? redis.url,
    region,
    nodeId,
    agingMs: over.agingMs ?? 60_000,
    lockMs: over.lockMs ?? 5_000,
    stalledIntervalMs: Math.max(100, Math.floor((over.lockMs ?? 5_000) / 2)),
    maxStalledCount: over.maxStalledCount ?? 1,
    events: new EventSender({ signingKey: testKey(SECRET), logger: logger(), baseDelayMs: 10 }),
    logger: logger().child({ node_id: nodeId }),
  });
  open.push(q);
  return q;
}

const succeeded = (job: RegionJob): JobEvent => ({
  type: "succeeded",
  job_id: job.job_id,
  region,
  request_id: job.request_id,
  at: new Date().toISOString(),
  started_at: new Date().toISOString(),
  gpu_ms: 5,
  execution_provider: "cpu",
  timings: { queue_ms: 1, inference_ms: 5, encode_ms: 1, upload_ms: 1, batch_size: 1 },
  output: {
    key: `${"a".repeat(64)}.png`,
    content_type: "image/png",
    width: 64,
    height: 64,
    bytes: 100,
    sha256: "a".repeat(64),
  },
});

const ledgerOf = (client: Redis, nodeId: string) =>
  new OutcomeLedger({
    redis: client,
    prefix: sharedQueueKeys(region).outcome,
    nodeId,
    ttlMs: 60_000,
  });
async function jobCounts() {
  const keys = sharedQueueKeys(region);
  const queue = new Queue(keys.queueName, { connection: { url: redis.url }, prefix: keys.prefix });
  try {
    return await queue.getJobCounts("active", "wait", "prioritized");
  } finally {
    await queue.close();
  }
}
const ids = (entries: QueueEntry[]) => entries.map((e) => e.job.job_id);
const terminalEvents = (jobId: string) =>
  edge.events().filter((e) => e.job_id === jobId && e.type !== "running");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes one job at a time until `expected` were taken or `timeoutMs` passed. */
async function takeUntil(q: SharedQueue, expected: number, timeoutMs = 10_000) {
  const got: QueueEntry[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < expected && Date.now() < deadline) {
    got.push(...(await q.backend.take(1)));
    if (got.length < expected) await sleep(50);
  }
  return got;
}

describe.skipIf(!installed)("SharedQueueBackend (real redis-server)", () => {
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(async () => {
    lines = [];
    region = `r${++regionSeq}-${process.pid}`;
    edge = await startEdgeStub(SECRET);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((q) => q.backend.close()));
    await edge.close();
  });

  it("serves lanes as priorities, reports positions and depth, refuses a repeated job id", async () => {
    const a = await node("a");
    const b = await node("b");
    expect(await a.backend.add(entry("r1", "relax"))).toEqual({ added: true, position: 0 });
    expect(await a.backend.add(entry("s1", "standard"))).toEqual({ added: true, position: 0 });
    expect(await b.backend.add(entry("f1", "fast"))).toEqual({ added: true, position: 0 });
    expect(await b.backend.add(entry("s2", "standard"))).toEqual({ added: true, position: 2 });
    expect(await b.backend.add(entry("f2", "fast"))).toEqual({ added: true, position: 1 });
    // The same job sent to the other node of the region is not queued twice.
    expect(await b.backend.add(entry("r1", "relax"))).toEqual({ added: false, position: null });
    expect(await a.backend.depth()).toEqual({ fast: 2, standard: 2, relax: 1 });
    expect(await b.backend.depth()).toEqual({ fast: 2, standard: 2, relax: 1 });

    const order = [...(await takeUntil(a, 2)), ...(await takeUntil(b, 3))];
    expect(ids(order)).toEqual(["f1", "f2", "s1", "s2", "r1"]);
    expect(await a.backend.running()).toBe(2);
    expect(await b.backend.depth()).toEqual({ fast: 0, standard: 0, relax: 0 });
  });

  it("batches by key from the shared queue, holding at most `max` jobs of other keys", async () => {
    const a = await node("a");
    const big = { width: 128, height: 128 };
    for (const [id, over] of [
      ["s64-1", {}],
      ["s128-1", big],
      ["s64-2", {}],
      ["s128-2", big],
      ["s128-3", big],
      ["s64-3", {}],
    ] as const) {
      await a.backend.add(entry(id, "standard", over));
    }
    // A batch of the first job's key; the 128x128 jobs met on the way wait here (at most 2).
    expect(ids(await a.backend.take(2))).toEqual(["s64-1", "s64-2"]);
    expect(await a.backend.depth()).toEqual({ fast: 0, standard: 3, relax: 0 });
    // The next batch starts with the jobs held here, in service order.
    expect(ids(await a.backend.take(3))).toEqual(["s128-1", "s128-2", "s128-3"]);
    expect(ids(await a.backend.take(3, batchKeyOf(entry("x", "fast").job)))).toEqual(["s64-3"]);
    expect(await a.backend.running()).toBe(6);
  });

  it("ages waiting jobs up the lanes so relax is not starved", async () => {
    expect(agedPriority("relax", 0, 1_000)).toBe(3);
    expect(agedPriority("relax", 1_000, 1_000)).toBe(2);
    expect(agedPriority("relax", 2_500, 1_000)).toBe(1);
    expect(agedPriority("fast", 9_000, 1_000)).toBe(1);

    const a = await node("a");
    const now = Date.now();
    await a.backend.add(entry("s-new", "standard", {}, now));
    await a.backend.add(entry("r-old", "relax", {}, now - 2_500));
    await a.backend.add(entry("r-mid", "relax", {}, now - 1_200));
    await a.backend.add(entry("f-new", "fast", {}, now));
    // One sweep (what the node runs every agingMs / 4, one node at a time).
    const keys = sharedQueueKeys(region);
    const queue = new Queue(keys.queueName, {
      connection: { url: redis.url },
      prefix: keys.prefix,
    });
    const client = new Redis(redis.url);
    try {
      const aging = new LaneAging({
        queue,
        redis: client,
        lockKey: keys.agingLock,
        nodeId: "sweeper",
        agingMs: 1_000,
        logger: logger(),
        now: () => now,
      });
      expect(await aging.sweep()).toBe(2);
      expect(await aging.sweep()).toBe(0);
    } finally {
      await queue.close();
      client.disconnect();
    }
    expect(await a.backend.depth()).toEqual({ fast: 2, standard: 2, relax: 0 });
    expect(ids(await takeUntil(a, 4))).toEqual(["f-new", "r-old", "s-new", "r-mid"]);
  });

  it("gives a dead node's jobs to another node once their lock expires", async () => {
    const a = await node("a", { lockMs: 600 });
    const b = await node("b", { lockMs: 600 });
    await a.backend.add(entry("j1", "standard"));
    await a.backend.add(entry("j2", "standard"));
    expect(ids(await a.backend.take(2))).toEqual(["j1", "j2"]);
    expect(await b.backend.take(2)).toEqual([]);
    // Node a stops renewing without acknowledging anything (as if killed).
    await a.backend.close();
    const started = Date.now();
    const recovered = await takeUntil(b, 2);
    expect(ids(recovered).sort()).toEqual(["j1", "j2"]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines.some((l) => l.includes("job lock expired"))).toBe(true);
  });

  it("sends one terminal event per job even when two nodes ran it", async () => {
    const a = await node("a", { lockMs: 600 });
    const b = await node("b", { lockMs: 600 });
    const e = entry("twice", "fast");
    await a.backend.add(e);
    expect(ids(await a.backend.take(1))).toEqual(["twice"]);
    // a stalls (its renewals stop) while b picks the job up and finishes first.
    await a.backend.close();
    expect(ids(await takeUntil(b, 1))).toEqual(["twice"]);
    expect(await b.events.send(e.job.callback_url, succeeded(e.job))).toBe(true);
    await b.backend.finish(["twice"]);
    // a's late result (a reporter like a's, on a live connection) is recorded nowhere, sent nowhere.
    const client = new Redis(redis.url);
    const lateReporter = new OutcomeReporter({
      ledger: ledgerOf(client, "a"),
      events: new EventSender({ signingKey: testKey(SECRET), logger: logger() }),
      logger: logger(),
    });
    const late = { ...succeeded(e.job), gpu_ms: 999 };
    expect(await lateReporter.send(e.job.callback_url, late)).toBe(true);
    client.disconnect();
    expect(terminalEvents("twice")).toHaveLength(1);
    expect(terminalEvents("twice")[0]).toMatchObject({ gpu_ms: 5 });
    expect(lines.some((l) => l.includes("already delivered by another node"))).toBe(true);
    // b acknowledged the job once the edge had its event: nothing is left waiting or running.
    await b.backend.close();
    expect(await jobCounts()).toMatchObject({ active: 0, wait: 0, prioritized: 0 });
  });

  it("delivers an outcome recorded by a node that died before sending it, without rerunning", async () => {
    const a = await node("a", { lockMs: 600 });
    const e = entry("orphan", "standard");
    await a.backend.add(e);
    expect(ids(await a.backend.take(1))).toEqual(["orphan"]);
    // A node recorded the outcome, then died before the edge had it.
    const client = new Redis(redis.url);
    expect(await ledgerOf(client, "ghost").claim(e.job.callback_url, succeeded(e.job))).toBeNull();
    client.disconnect();
    await a.backend.close();

    const b = await node("b", { lockMs: 600 });
    const deadline = Date.now() + 5_000;
    while (terminalEvents("orphan").length === 0 && Date.now() < deadline) {
      expect(await b.backend.take(1)).toEqual([]);
      await sleep(50);
    }
    expect(terminalEvents("orphan")).toHaveLength(1);
    expect(edge.events().filter((ev) => ev.job_id === "orphan")).toHaveLength(1);
  });

  it("hands unstarted jobs back at a drain, at the head of their lane", async () => {
    const a = await node("a");
    const b = await node("b");
    await a.backend.add(entry("s1", "standard"));
    await a.backend.add(entry("l1", "standard", { width: 128, height: 128 }));
    await a.backend.add(entry("s2", "standard"));
    expect(ids(await a.backend.take(2))).toEqual(["s1", "s2"]);
    const unstarted = await a.backend.removeQueued();
    expect(ids(unstarted)).toEqual(["l1"]);
    expect(await a.backend.take(2)).toEqual([]);
    await b.backend.add(entry("l2", "standard", { width: 128, height: 128 }));
    await a.backend.release(unstarted);
    expect(ids(await b.backend.take(2))).toEqual(["l1", "l2"]);
  });

  it("fails a job whose nodes keep dying, telling the edge", async () => {
    const a = await node("a", { lockMs: 400, maxStalledCount: 0 });
    const e = entry("poison", "standard");
    await a.backend.add(e);
    expect(ids(await a.backend.take(1))).toEqual(["poison"]);
    await a.backend.close();
    const b = await node("b", { lockMs: 400, maxStalledCount: 0 });
    const deadline = Date.now() + 5_000;
    while (terminalEvents("poison").length === 0 && Date.now() < deadline) {
      expect(await b.backend.take(1)).toEqual([]);
      await sleep(50);
    }
    expect(terminalEvents("poison")[0]).toMatchObject({
      type: "failed",
      retryable: false,
      error: { code: "node_lost" },
    });
  });

  it("cancels a waiting job from any node: no node runs it, every node answers the same", async () => {
    const a = await node("a");
    const b = await node("b");
    await a.backend.add(entry("c1", "standard"));
    await a.backend.add(entry("c2", "standard"));
    expect(await b.backend.cancel("c1")).toBe("canceled");
    expect(await a.backend.cancel("c1")).toBe("canceled");
    expect(await b.backend.cancel("c1")).toBe("canceled");
    expect(await b.backend.cancel("never-sent")).toBe("unknown");
    expect(await a.backend.depth()).toEqual({ fast: 0, standard: 1, relax: 0 });
    expect(ids(await a.backend.take(2))).toEqual(["c2"]);
    expect(await b.backend.take(2)).toEqual([]);
    // Sent again (an edge retry), it is still not queued.
    expect(await b.backend.add(entry("c1", "standard"))).toEqual({ added: false, position: null });
    expect(terminalEvents("c1")).toEqual([]);
  });

  it("drops a canceled job another node holds unstarted, at that node's next take", async () => {
    const a = await node("a");
    const b = await node("b");
    const big = { width: 128, height: 128 };
    await a.backend.add(entry("small", "standard"));
    await a.backend.add(entry("big", "standard", big));
    await a.backend.add(entry("big-here", "standard", big));
    // A batch of `small`; the 128x128 jobs met on the way wait on node a.
    expect(ids(await a.backend.take(3))).toEqual(["small"]);
    // Another node cannot tell that a has not started `big`: it answers `running`...
    expect(await b.backend.cancel("big")).toBe("running");
    // ...while node a, asked about a job it holds unstarted, drops it at once.
    expect(await a.backend.cancel("big-here")).toBe("canceled");
    expect(await a.backend.cancel("big")).toBe("running");
    // Either way neither runs.
    expect(await a.backend.take(3)).toEqual([]);
    expect(lines.filter((l) => l.includes("dropped")).length).toBe(2);
    await a.backend.finish(["small"]);
    await a.backend.close();
    expect(await jobCounts()).toMatchObject({ active: 0, wait: 0, prioritized: 0 });
  });

  it("sends no outcome for a job canceled while it runs, and answers `finished` after the end", async () => {
    const a = await node("a");
    const b = await node("b");
    const running = entry("running", "fast");
    const done = entry("done", "fast");
    await a.backend.add(running);
    await a.backend.add(done);
    expect(ids(await a.backend.take(2))).toEqual(["running", "done"]);
    expect(await a.events.send(done.job.callback_url, succeeded(done.job))).toBe(true);
    await a.backend.finish(["done"]);

    expect(await b.backend.cancel("running")).toBe("running");
    expect(await b.backend.cancel("done")).toBe("finished");
    // The run ends on node a: its result is recorded nowhere and sent nowhere.
    expect(await a.events.send(running.job.callback_url, succeeded(running.job))).toBe(true);
    await a.backend.finish(["running"]);
    expect(terminalEvents("running")).toEqual([]);
    expect(terminalEvents("done")).toHaveLength(1);
    expect(lines.some((l) => l.includes("job was canceled; its outcome is not sent"))).toBe(true);
    expect(await a.backend.cancel("running")).toBe("running");
    await a.backend.close();
    expect(await jobCounts()).toMatchObject({ active: 0, wait: 0, prioritized: 0 });
  });

  it("refuses intake as unavailable (503: try another region) when Redis goes away", async () => {
    const own = await startRedisServer();
    const a = await node("a", { url: own.url });
    await a.backend.add(entry("before", "standard"));
    await own.stop();
    const started = Date.now();
    await expect(a.backend.add(entry("after", "standard"))).rejects.toMatchObject({
      name: "QueueUnavailableError",
      status: 503,
      code: "queue_unavailable",
      headers: { "retry-after": "5" },
    });
    await expect(a.backend.depth()).rejects.toBeInstanceOf(QueueUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Closing does not wait for the missing Redis beyond its bounds.
    await a.backend.close();
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  it("answers the oldest waiting job and the nodes taking from the queue", async () => {
    const a = await node("a");
    expect(await a.backend.oldestEnqueuedAt()).toBeNull();
    await a.backend.add(entry("new", "fast", {}, 2_000_000));
    await a.backend.add(entry("old", "relax", {}, 1_000_000));
    expect(await a.backend.oldestEnqueuedAt()).toBe(1_000_000);
  });

  it("counts the jobs every node has taken and not finished", async () => {
    const a = await node("a");
    const b = await node("b");
    for (const id of ["j1", "j2", "j3", "j4"]) await a.backend.add(entry(id, "standard"));
    await a.backend.take(2);
    await b.backend.take(1);
    expect(await a.backend.activeJobs()).toBe(3);
    expect(await b.backend.activeJobs()).toBe(3);
    expect((await a.backend.depth()).standard).toBe(1);
  });

  it("counts the nodes taking jobs: from their first take until they drain, or die", async () => {
    const a = await node("a", { lockMs: 400 });
    const b = await node("b", { lockMs: 400 });
    const c = await node("c", { lockMs: 400 });
    const nodes = () => a.backend.activeNodes();
    // Started (models loading) but not taking yet: not capacity. Never reported below 1.
    expect(await nodes()).toBe(1);
    await a.backend.take(1);
    await b.backend.take(1);
    await c.backend.take(1);
    expect(await nodes()).toBe(3);
    // A draining node stops counting at once.
    await b.backend.removeQueued();
    await expect.poll(nodes, { timeout: 2_000 }).toBe(2);
    // A node that died (no more renewals, no goodbye) drops out after its lock time.
    c.redis.disconnect();
    await expect.poll(nodes, { timeout: 3_000, interval: 100 }).toBe(1);
  });

  it("lists the region's jobs for the edge's leases, the same from every node, until acknowledged", async () => {
    const a = await node("a");
    const b = await node("b");
    for (const [id, lane] of [
      ["w1", "fast"],
      ["w2", "relax"],
      ["w3", "standard"],
    ] as const) {
      await a.backend.add(entry(`gen_${id}`, lane));
    }
    const held = { scope: "region", complete: true };
    const sorted = (h: { jobs: string[] }) => [...h.jobs].sort();
    expect(await b.backend.heldJobs(100)).toMatchObject(held);
    expect(sorted(await b.backend.heldJobs(100))).toEqual(["gen_w1", "gen_w2", "gen_w3"]);
    // Taken by b: still the region's (active) until its outcome reached the edge.
    const [taken] = await b.backend.take(1);
    expect(sorted(await a.backend.heldJobs(100))).toEqual(["gen_w1", "gen_w2", "gen_w3"]);
    expect(await b.events.send(taken!.job.callback_url, succeeded(taken!.job))).toBe(true);
    await b.backend.finish([taken!.job.job_id]);
    await b.backend.close();
    expect(sorted(await a.backend.heldJobs(100))).not.toContain(taken!.job.job_id);
    // Past `max` the list is cut and says so.
    expect(await a.backend.heldJobs(1)).toMatchObject({ complete: false });
  });
});
