import { describe, expect, it } from "vitest";
import type { RegionJob } from "../../contracts/region-protocol.ts";
import { InProcessQueueBackend } from "./in-process-backend.ts";
import { JobQueue } from "./job-queue.ts";
import { batchKeyOf, type QueueEntry } from "./queue-backend.ts";

function entry(id: string): QueueEntry {
  const job = {
    job_id: id,
    model: "m",
    model_version: "v",
    width: 64,
    height: 64,
    priority: "standard",
  } as RegionJob;
  return { job, batchKey: batchKeyOf(job), enqueuedAt: Date.now() };
}

const answer = (id: string) => (position: number) => ({
  job_id: id,
  region: "eu-west",
  queue_position: position,
  estimated_wait_ms: position * 100,
});

const newQueue = (maxDepth = 10) =>
  new JobQueue(new InProcessQueueBackend({ agingMs: 1_000 }), { maxDepth });

describe("JobQueue", () => {
  it("answers a duplicate with the first answer until the job finishes", async () => {
    const q = newQueue();
    await q.enqueue(entry("a"), answer("a"));
    const first = await q.enqueue(entry("b"), answer("b"));
    expect(first).toEqual({ kind: "added", answer: answer("b")(1) });
    await q.take(1);
    expect(await q.enqueue(entry("b"), answer("b"))).toEqual({
      kind: "duplicate",
      answer: first.kind === "added" ? first.answer : null,
    });
    const [b] = await q.take(1);
    expect(await q.enqueue(entry("b"), answer("b"))).toMatchObject({ kind: "duplicate" });
    await q.finish([b!.job.job_id]);
    expect(await q.enqueue(entry("b"), answer("b"))).toMatchObject({ kind: "added" });
  });

  it("refuses new jobs at maxDepth, counting queued jobs only", async () => {
    const q = newQueue(2);
    await q.enqueue(entry("a"), answer("a"));
    await q.enqueue(entry("b"), answer("b"));
    expect(await q.enqueue(entry("c"), answer("c"))).toEqual({ kind: "full", depth: 2 });
    await q.take(1);
    expect(await q.enqueue(entry("c"), answer("c"))).toMatchObject({ kind: "added" });
  });

  it("wakes a waiting worker on enqueue, and times out or aborts otherwise", async () => {
    const q = newQueue();
    const started = Date.now();
    const waiting = q.waitForJobs(5_000);
    await q.enqueue(entry("a"), answer("a"));
    await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
    await q.waitForJobs(10);
    const abort = new AbortController();
    const aborted = q.waitForJobs(5_000, abort.signal);
    abort.abort();
    await aborted;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
