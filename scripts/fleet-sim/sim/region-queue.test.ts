import { describe, expect, it } from "vitest";
import type { Priority } from "../../../contracts/api.ts";
import type { RegionJob } from "../../../contracts/region-protocol.ts";
import { SeededRandom } from "../../../regional-gpu/pipelines/seeded-random.ts";
import { InProcessQueueBackend } from "../../../regional-gpu/queue/in-process-backend.ts";
import { LANES } from "../../../regional-gpu/queue/queue-backend.ts";
import { RegionQueue } from "./region-queue.ts";
import { newSimJob } from "./sim-job.ts";

// The simulator's queue must serve jobs in exactly the order the node's own queue does: the same
// random arrivals and takes, fed to both, give the same batches.

describe("RegionQueue", () => {
  it("serves batches in the node queue's order (lanes, aging, batch keys)", async () => {
    const random = new SeededRandom(7);
    const aging = 10_000;
    const real = new InProcessQueueBackend({ agingMs: aging });
    const sim = new RegionQueue(3, aging);
    let now = 0;
    let id = 0;
    for (let step = 0; step < 2_000; step++) {
      now += Math.floor(random.nextFloat() * 900);
      if (random.nextFloat() < 0.6) {
        const lane = LANES[Math.floor(random.nextFloat() * 3)]!;
        const shape = Math.floor(random.nextFloat() * 3);
        const job = newSimJob(id++, { at: now, metro: 0, lane, shape });
        sim.push(job, now);
        const regionJob = { job_id: String(job.id), priority: lane } as RegionJob;
        await real.add({ job: regionJob, batchKey: String(shape), enqueuedAt: now });
      } else {
        const max = 1 + Math.floor(random.nextFloat() * 8);
        const key = sim.nextKey();
        const taken: number[] = [];
        for (
          let j = key < 0 ? undefined : sim.take(key);
          j;
          j = taken.length < max ? sim.take(key) : undefined
        ) {
          taken.push(j.id);
        }
        const expected = (await real.take(max)).map((e) => Number(e.job.job_id));
        expect(taken).toEqual(expected);
      }
      expect(sim.size).toBe(
        (await real.depth()).fast + (await real.depth()).standard + (await real.depth()).relax,
      );
      const oldest = await real.oldestEnqueuedAt();
      expect(sim.oldestEnqueuedAt()).toBe(oldest);
    }
  });
});
