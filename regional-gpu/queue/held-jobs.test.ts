import { describe, expect, it } from "vitest";
import type { RegionJob } from "../../contracts/region-protocol.ts";
import { heldJobsOf } from "./held-jobs.ts";
import { InProcessQueueBackend } from "./in-process-backend.ts";
import { batchKeyOf } from "./queue-backend.ts";

const job = (id: string): RegionJob => ({
  job_id: id,
  request_id: `req_${id}`,
  account_id: "acct_1",
  project_id: null,
  model: "cppn-glove",
  model_version: "v1",
  prompt: "harbour",
  negative_prompt: null,
  width: 64,
  height: 64,
  seed: 1,
  priority: "standard",
  callback_url: "http://edge.test/internal/regions/eu-west/events",
  submitted_at: new Date().toISOString(),
});

describe("the jobs a node's heartbeat renews", () => {
  it("are its queued and running jobs, then those whose events are still on the way", async () => {
    const queue = new InProcessQueueBackend({ agingMs: 10_000 });
    for (const id of ["a", "b", "c"]) {
      const j = job(id);
      await queue.add({ job: j, batchKey: batchKeyOf(j), enqueuedAt: Date.now() });
    }
    await queue.take(1);
    expect(await queue.heldJobs(10)).toEqual({
      scope: "node",
      jobs: ["a", "b", "c"],
      complete: true,
    });
    // `a` finished: it leaves the queue, but its event has not reached the edge yet.
    await queue.finish(["a"]);
    expect(heldJobsOf(await queue.heldJobs(10), ["a"])).toEqual({
      scope: "node",
      jobs: ["b", "c", "a"],
      complete: true,
    });
    // Delivered: gone; canceled: gone.
    await queue.cancel("b");
    expect(heldJobsOf(await queue.heldJobs(10), [])).toEqual({
      scope: "node",
      jobs: ["c"],
      complete: true,
    });
  });

  it("are cut at the limit, and then prove nothing about the jobs left out", async () => {
    const queue = new InProcessQueueBackend({ agingMs: 10_000 });
    for (const id of ["a", "b", "c"]) {
      const j = job(id);
      await queue.add({ job: j, batchKey: batchKeyOf(j), enqueuedAt: Date.now() });
    }
    expect(await queue.heldJobs(2)).toEqual({ scope: "node", jobs: ["a", "b"], complete: false });
    expect(heldJobsOf(await queue.heldJobs(3), ["d"], 3)).toEqual({
      scope: "node",
      jobs: ["a", "b", "c"],
      complete: false,
    });
  });
});
