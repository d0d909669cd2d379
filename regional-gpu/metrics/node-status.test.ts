import { describe, expect, it } from "vitest";
import type { Priority } from "../../contracts/api.ts";
import { Heartbeat, type RegionJob } from "../../contracts/region-protocol.ts";
import { NodeLifecycle } from "../lifecycle.ts";
import { InProcessQueueBackend } from "../queue/in-process-backend.ts";
import { JobQueue } from "../queue/job-queue.ts";
import { batchKeyOf, type QueueBackend } from "../queue/queue-backend.ts";
import { BatchPolicy } from "../scheduler/batch-policy.ts";
import { heartbeatOf, NodeStatusSource } from "./node-status.ts";
import { ThroughputMeter } from "./throughput.ts";

function job(id: string, priority: Priority): RegionJob {
  return {
    job_id: id,
    model: "m",
    model_version: "v",
    width: 64,
    height: 64,
    priority,
  } as RegionJob;
}

function parts(backend: QueueBackend = new InProcessQueueBackend({ agingMs: 10_000 })) {
  let now = 100_000;
  const clock = {
    now: () => now,
    advance: (ms: number) => (now += ms),
  };
  const queue = new JobQueue(backend, { maxDepth: 100 });
  const meter = new ThroughputMeter({ now: clock.now });
  const lifecycle = new NodeLifecycle();
  const source = new NodeStatusSource({
    lifecycle,
    queue,
    meter,
    batching: new BatchPolicy({ maxBatch: 4, maxBatchDelayMs: 5 }),
    inFlight: () => 2,
    models: () => ({ warmModels: ["m@v"], executionProvider: "cpu" }),
    now: clock.now,
    cacheMs: 0,
  });
  const add = (id: string, priority: Priority, at: number) =>
    queue.enqueue({ job: job(id, priority), batchKey: "k", enqueuedAt: at }, (p) => ({
      job_id: id,
      region: "eu-west",
      queue_position: p,
      estimated_wait_ms: 0,
    }));
  return { clock, queue, meter, lifecycle, source, add };
}

describe("NodeStatusSource and heartbeatOf", () => {
  it("reports lanes, backlog, oldest job age and per-lane waits from measured service time", async () => {
    const { clock, meter, lifecycle, source, add } = parts();
    lifecycle.markReady();
    await add("f1", "fast", clock.now() - 3_000);
    await add("s1", "standard", clock.now() - 1_000);
    await add("s2", "standard", clock.now());
    await add("r1", "relax", clock.now());
    // No batch yet: no service time, so no wait estimate rather than a made-up one.
    expect((await source.read()).estimatedWaitMs).toBeNull();

    meter.record(4, 1, 400, ["upload_failed"]); // 100 ms per image
    const status = await source.read();
    expect(status).toMatchObject({
      ready: true,
      draining: false,
      depth: { fast: 1, standard: 2, relax: 1 },
      queued: 4,
      inFlight: 2,
      oldestJobAgeMs: 3_000,
      activeNodes: 1,
      backlogPerInstance: 4,
      serviceMsPerImage: 100,
      // Jobs ahead of a newcomer in its lane, plus the 2 running, x 100 ms.
      estimatedWaitMs: { fast: 300, standard: 500, relax: 600 },
      failureRate: 0.25,
      recentJobs: 4,
      recentFailures: { upload_failed: 1 },
    });

    const beat = Heartbeat.parse(heartbeatOf(status, { region: "eu-west", nodeId: "n1" }));
    expect(beat).toMatchObject({
      region: "eu-west",
      node_id: "n1",
      queue_depth: { fast: 1, standard: 2, relax: 1 },
      in_flight: 2,
      capacity: 4,
      max_batch_delay_ms: 5,
      oldest_job_age_ms: 3_000,
      backlog_per_instance: 4,
      service_ms_per_image: 100,
      estimated_wait_ms: { fast: 300, standard: 500, relax: 600 },
      failure_rate: 0.25,
      recent_jobs: 4,
      recent_failures: { upload_failed: 1 },
      warm_models: ["m@v"],
      execution_provider: "cpu",
    });
    lifecycle.beginDrain();
    expect(heartbeatOf(await source.read(), { region: "eu-west", nodeId: "n1" })).toMatchObject({
      ready: false,
      draining: true,
    });
  });

  it("divides the backlog, and the wait behind it, by the nodes sharing a queue", async () => {
    const shared = new InProcessQueueBackend({ agingMs: 10_000 }) as QueueBackend;
    shared.activeNodes = async () => 3;
    const { clock, meter, source, add } = parts(shared);
    for (const id of ["a", "b", "c", "d", "e", "f"]) await add(id, "standard", clock.now());
    meter.record(1, 0, 100); // 100 ms per image on this node
    // Three nodes serve the 6 jobs ahead: 2 rounds each, after this node's 2 running jobs.
    expect(await source.read()).toMatchObject({
      queued: 6,
      activeNodes: 3,
      backlogPerInstance: 2,
      estimatedWaitMs: { fast: 200, standard: 400, relax: 400 },
    });
  });

  it("counts the jobs taken and not finished in the backlog, wherever they run", async () => {
    const shared = new InProcessQueueBackend({ agingMs: 10_000 }) as QueueBackend;
    shared.activeNodes = async () => 2;
    // Running on this node and the other one, as the shared queue reports them.
    shared.activeJobs = async () => 5;
    const { clock, source, add } = parts(shared);
    for (const id of ["a", "b", "c"]) await add(id, "standard", clock.now());
    // The fleet keeps up when nothing waits, yet both nodes are busy: (3 + 5) / 2.
    expect(await source.read()).toMatchObject({ queued: 3, activeJobs: 5, backlogPerInstance: 4 });
  });

  it("counts this node's running jobs on a node-local queue", async () => {
    const { clock, queue, source, add } = parts();
    for (const id of ["a", "b", "c", "d"]) await add(id, "standard", clock.now());
    await queue.take(3);
    expect(await source.read()).toMatchObject({ queued: 1, activeJobs: 3, backlogPerInstance: 4 });
  });

  it("reuses a reading for cacheMs, and reads again after", async () => {
    const backend = new InProcessQueueBackend({ agingMs: 10_000 });
    let reads = 0;
    const depth = backend.depth.bind(backend);
    backend.depth = () => (reads++, depth());
    const queue = new JobQueue(backend, { maxDepth: 10 });
    let now = 0;
    const source = new NodeStatusSource({
      lifecycle: new NodeLifecycle(),
      queue,
      meter: new ThroughputMeter(),
      batching: new BatchPolicy(),
      inFlight: () => 0,
      models: () => ({ warmModels: [], executionProvider: "none" }),
      now: () => now,
      cacheMs: 250,
    });
    await Promise.all([source.read(), source.read()]);
    now = 200;
    await source.read();
    expect(reads).toBe(1);
    now = 300;
    await queue.enqueue(
      { job: job("x", "fast"), batchKey: batchKeyOf(job("x", "fast")), enqueuedAt: 0 },
      () => ({ job_id: "x", region: "r", queue_position: 0, estimated_wait_ms: 0 }),
    );
    expect((await source.read()).queued).toBe(1);
  });
});
