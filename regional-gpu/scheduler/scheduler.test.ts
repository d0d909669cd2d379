import { testKey } from "../testing/signed-client.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Priority } from "../../contracts/api.ts";
import { newId } from "../../contracts/ids.ts";
import { REGION_PATHS, type RegionJob } from "../../contracts/region-protocol.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import type { ObjectStore } from "../../storage/object-store.ts";
import { EventSender } from "../events/event-sender.ts";
import { createLogger } from "../log.ts";
import { ThroughputMeter } from "../metrics/throughput.ts";
import { InProcessQueueBackend } from "../queue/in-process-backend.ts";
import { JobQueue } from "../queue/job-queue.ts";
import { batchKeyOf } from "../queue/queue-backend.ts";
import { startEdgeStub, type EdgeStub } from "../testing/edge-stub.ts";
import {
  pacedModel,
  recordingReferenceModel,
  type RecordingModel,
} from "../testing/recording-model.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { BatchPolicy } from "./batch-policy.ts";
import { Scheduler } from "./scheduler.ts";
import type { BatchRan, SchedulerObserver } from "./scheduler-observer.ts";

// The scheduler on real parts: the in-process queue, the reference model on ONNX Runtime (each
// session.run recorded), the on-disk object store and signed events to a stub edge.

const SECRET = "scheduler-test-signing-secret";
const REGION = "eu-west";

let model: TestModel;
let real: RecordingModel;
let dir: string;
let edge: EdgeStub;
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  model = await referenceModel();
  real = await recordingReferenceModel(model);
  dir = await mkdtemp(join(tmpdir(), "scheduler-"));
  edge = await startEdgeStub(SECRET);
});
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  real.runs.length = 0;
});
afterAll(async () => {
  await real.release();
  await edge.close();
  await rm(dir, { recursive: true, force: true });
});

function job(over: Partial<RegionJob> = {}): RegionJob {
  return {
    job_id: newId("generation"),
    request_id: newId("request"),
    account_id: "acct_test",
    project_id: null,
    model: model.manifest.name,
    model_version: model.manifest.version,
    prompt: "a quiet harbour at dawn, teal and amber",
    negative_prompt: null,
    width: 64,
    height: 64,
    seed: 1,
    priority: "standard",
    callback_url: `${edge.url}${REGION_PATHS.events(REGION)}`,
    submitted_at: new Date().toISOString(),
    ...over,
  };
}

function setUp(opts: {
  maxBatch: number;
  maxBatchDelayMs: number;
  model?: RecordingModel;
  store?: ObjectStore;
}) {
  const queue = new JobQueue(new InProcessQueueBackend({ agingMs: 100 }), { maxDepth: 1_000 });
  const batches: BatchRan[] = [];
  const observer: SchedulerObserver = {
    batchRan: (b) => batches.push(b),
    jobSucceeded: () => {},
    jobFailed: () => {},
  };
  const logger = createLogger({ level: "silent" });
  const events = new EventSender({ signingKey: testKey(SECRET), logger, baseDelayMs: 10 });
  const scheduler = new Scheduler({
    region: REGION,
    queue,
    models: opts.model ?? real,
    store: opts.store ?? new FsObjectStore(join(dir, newId("request"))),
    events,
    meter: new ThroughputMeter(),
    logger,
    batching: new BatchPolicy(opts),
    observer,
  });
  stops.push(async () => {
    await scheduler.stop(10_000);
    await events.close(1_000);
  });
  const enqueue = (j: RegionJob, enqueuedAt = Date.now()) =>
    queue.enqueue({ job: j, batchKey: batchKeyOf(j), enqueuedAt }, (position) => ({
      job_id: j.job_id,
      region: REGION,
      queue_position: position,
      estimated_wait_ms: 0,
    }));
  return { scheduler, queue, batches, enqueue };
}

const terminal = (jobId: string) =>
  edge.events().find((e) => e.job_id === jobId && (e.type === "succeeded" || e.type === "failed"));
const allDone = (jobs: RegionJob[]) => edge.waitFor(() => jobs.every((j) => terminal(j.job_id)));
const runningAt = (jobId: string) =>
  Date.parse(edge.events().find((e) => e.job_id === jobId && e.type === "running")!.at);

describe("Scheduler: dynamic batching", () => {
  it("runs a burst of same-shape jobs as one session.run", async () => {
    const { scheduler, enqueue } = setUp({ maxBatch: 8, maxBatchDelayMs: 200 });
    const burst = [1, 2, 3, 4, 5].map((seed) => job({ seed }));
    for (const j of burst) await enqueue(j);
    scheduler.start();
    await allDone(burst);
    expect(real.runs.map((r) => [r.batch, r.pixels])).toEqual([[5, 64 * 64]]);
    for (const j of burst) {
      expect(terminal(j.job_id)).toMatchObject({ type: "succeeded", timings: { batch_size: 5 } });
    }
  });

  it("never puts two shapes in one batch, and keeps each shape's jobs together", async () => {
    const { scheduler, enqueue, batches } = setUp({ maxBatch: 8, maxBatchDelayMs: 50 });
    const jobs = [64, 128, 64, 128, 64].map((side, seed) =>
      job({ width: side, height: side, seed }),
    );
    for (const j of jobs) await enqueue(j);
    scheduler.start();
    await allDone(jobs);
    expect(real.runs.map((r) => [r.batch, r.pixels])).toEqual([
      [3, 64 * 64],
      [2, 128 * 128],
    ]);
    expect(batches.map((b) => b.size)).toEqual([3, 2]);
  });

  it("waits at most maxBatchDelayMs from acceptance for batch-mates", async () => {
    const delay = 150;
    const { scheduler, enqueue } = setUp({ maxBatch: 8, maxBatchDelayMs: delay });
    scheduler.start();
    const lone = job();
    const acceptedAt = Date.now();
    await enqueue(lone, acceptedAt);
    await allDone([lone]);
    const waited = real.runs[0]!.startedAt - acceptedAt;
    // It held the batch open for company that never came, and no longer than the bound.
    expect(waited).toBeGreaterThanOrEqual(delay - 5);
    expect(waited).toBeLessThan(delay + 250);

    // A job accepted longer ago than the bound (it queued behind other work) does not wait again.
    const old = job({ seed: 2 });
    await enqueue(old, Date.now() - 10 * delay);
    const enqueuedAt = Date.now();
    await allDone([old]);
    expect(real.runs[1]!.startedAt - enqueuedAt).toBeLessThan(delay);
  });

  it("starts a full batch at once instead of waiting out the delay", async () => {
    const { scheduler, enqueue } = setUp({ maxBatch: 4, maxBatchDelayMs: 10_000 });
    scheduler.start();
    const full = [1, 2, 3, 4].map((seed) => job({ seed }));
    const started = Date.now();
    await Promise.all(full.map((j) => enqueue(j)));
    await allDone(full);
    expect(real.runs.map((r) => r.batch)).toEqual([4]);
    expect(real.runs[0]!.startedAt - started).toBeLessThan(2_000);
  });

  it("runs one job per session.run with batching off", async () => {
    const { scheduler, enqueue } = setUp({ maxBatch: 1, maxBatchDelayMs: 0 });
    const jobs = [1, 2, 3].map((seed) => job({ seed }));
    for (const j of jobs) await enqueue(j);
    scheduler.start();
    await allDone(jobs);
    expect(real.runs.map((r) => r.batch)).toEqual([1, 1, 1]);
  });
});

describe("Scheduler: output stage", () => {
  it("overlaps a batch's outputs with the next inference, at most two batches behind", async () => {
    // Every store call takes 150 ms; the executor 20 ms per batch.
    const fs = new FsObjectStore(join(dir, newId("request")));
    const slow: ObjectStore = {
      put: (...a) => fs.put(...a),
      get: (...a) => fs.get(...a),
      delete: (...a) => fs.delete(...a),
      head: async (key) => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        return fs.head(key);
      },
    };
    const paced = pacedModel(model.manifest, 20);
    const { scheduler, enqueue } = setUp({
      maxBatch: 1,
      maxBatchDelayMs: 0,
      model: paced,
      store: slow,
    });
    const jobs = [1, 2, 3, 4].map((seed) => job({ seed }));
    for (const j of jobs) await enqueue(j);
    scheduler.start();
    await allDone(jobs);
    const doneAt = (j: RegionJob) => Date.parse(terminal(j.job_id)!.at);
    // The second batch ran while the first one's output was still being stored...
    expect(paced.runs[1]!.startedAt).toBeLessThan(doneAt(jobs[0]!));
    // ...but the third waited for the first output stage to finish (two in that stage at most).
    expect(paced.runs[2]!.startedAt).toBeGreaterThanOrEqual(doneAt(jobs[0]!) - 5);
    expect(paced.runs.map((r) => r.batch)).toEqual([1, 1, 1, 1]);
  });

  it("waits for output stages when stopping, and reports nothing twice", async () => {
    const paced = pacedModel(model.manifest, 20);
    const { scheduler, enqueue } = setUp({ maxBatch: 1, maxBatchDelayMs: 0, model: paced });
    const jobs = [1, 2].map((seed) => job({ seed }));
    for (const j of jobs) await enqueue(j);
    scheduler.start();
    await edge.waitFor(() => paced.runs.length === 2);
    expect(await scheduler.stop(5_000)).toBe(0);
    expect(scheduler.inFlight()).toBe(0);
    await allDone(jobs);
    for (const j of jobs) {
      const terminals = edge.events().filter((e) => e.job_id === j.job_id && e.type !== "running");
      expect(terminals.map((e) => e.type)).toEqual(["succeeded"]);
    }
  });
});

describe("Scheduler: priority lanes", () => {
  it("bounds a relax job's wait under a stream of fast jobs (aging)", async () => {
    // Executor: 10 ms per job; fast jobs arrive every 5 ms, so the fast lane never empties. Aging
    // 100 ms: a relax job outranks every fast job accepted more than 2 x 100 ms after it.
    const serviceMs = 10;
    const agingMs = 100;
    const paced = pacedModel(model.manifest, serviceMs);
    const { scheduler, enqueue } = setUp({ maxBatch: 1, maxBatchDelayMs: 0, model: paced });
    const fast: Array<{ job: RegionJob; at: number }> = [];
    const addFast = async () => {
      const j = job({ priority: "fast" as Priority, seed: fast.length });
      const at = Date.now();
      fast.push({ job: j, at });
      await enqueue(j, at);
    };
    for (let i = 0; i < 10; i++) await addFast();
    scheduler.start();
    const stream = setInterval(() => void addFast(), 5);
    stops.push(async () => clearInterval(stream));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const relax = job({ priority: "relax" });
    const relaxAt = Date.now();
    await enqueue(relax, relaxAt);
    await allDone([relax]);
    clearInterval(stream);
    const relaxStarted = runningAt(relax.job_id);

    // The ordering guarantee: no fast job accepted after relaxAt + 2 x agingMs ran before it.
    const lateFast = fast.filter((f) => f.at > relaxAt + 2 * agingMs);
    expect(lateFast.length).toBeGreaterThan(0);
    for (const f of lateFast) {
      const ran = edge.events().find((e) => e.job_id === f.job.job_id && e.type === "running");
      if (ran) expect(Date.parse(ran.at)).toBeGreaterThanOrEqual(relaxStarted);
    }
    // Hence the bound: 2 x agingMs plus the service of the jobs ranked ahead by then. Those were
    // at most the 10 first jobs plus one arrival per 5 ms until relaxAt + 2 x agingMs.
    const ahead = 10 + Math.ceil((relaxAt + 2 * agingMs - fast[0]!.at) / 5);
    expect(relaxStarted - relaxAt).toBeLessThan(2 * agingMs + ahead * serviceMs * 3);
    // Without aging it would have waited for the whole stream; the stream was still running.
    expect(fast.at(-1)!.at).toBeGreaterThan(relaxStarted);
  });
});
