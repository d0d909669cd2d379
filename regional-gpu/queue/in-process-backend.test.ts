import { describe, expect, it } from "vitest";
import type { Priority } from "../../contracts/api.ts";
import type { RegionJob } from "../../contracts/region-protocol.ts";
import { InProcessQueueBackend } from "./in-process-backend.ts";
import { batchKeyOf, type QueueEntry } from "./queue-backend.ts";

const AGING_MS = 1_000;

function entry(id: string, priority: Priority, at: number, size = 64): QueueEntry {
  const job = {
    job_id: id,
    request_id: `req_${id}`,
    model: "cppn-glove",
    model_version: "v1",
    width: size,
    height: size,
    priority,
  } as RegionJob;
  return { job, batchKey: batchKeyOf(job), enqueuedAt: at };
}

async function drainOrder(q: InProcessQueueBackend): Promise<string[]> {
  const order: string[] = [];
  for (let batch = await q.take(1); batch.length > 0; batch = await q.take(1)) {
    order.push(...batch.map((e) => e.job.job_id));
  }
  return order;
}

describe("InProcessQueueBackend", () => {
  it("serves fast > standard > relax, FIFO within a lane", async () => {
    const q = new InProcessQueueBackend({ agingMs: AGING_MS });
    const arrivals: Array<[string, Priority]> = [
      ["r1", "relax"],
      ["s1", "standard"],
      ["f1", "fast"],
      ["r2", "relax"],
      ["s2", "standard"],
      ["f2", "fast"],
    ];
    for (const [i, [id, p]] of arrivals.entries()) await q.add(entry(id, p, 100 + i));
    expect(await q.depth()).toEqual({ fast: 2, standard: 2, relax: 2 });
    expect(await drainOrder(q)).toEqual(["f1", "f2", "s1", "s2", "r1", "r2"]);
  });

  it("answers each arrival's position in service order", async () => {
    const q = new InProcessQueueBackend({ agingMs: AGING_MS });
    expect(await q.add(entry("s1", "standard", 0))).toEqual({ added: true, position: 0 });
    expect(await q.add(entry("s2", "standard", 1))).toEqual({ added: true, position: 1 });
    expect(await q.add(entry("f1", "fast", 2))).toEqual({ added: true, position: 0 });
    expect(await q.add(entry("r1", "relax", 3))).toEqual({ added: true, position: 3 });
  });

  it("ages waiting jobs one lane per agingMs, so relax is not starved", async () => {
    const q = new InProcessQueueBackend({ agingMs: AGING_MS });
    await q.add(entry("old-relax", "relax", 0));
    // A steady stream of fast jobs: the relax job outranks those arriving two lanes' worth (2 x
    // agingMs) after it; on a tie the earlier arrival goes first.
    for (let t = 500; t <= 3_000; t += 500) await q.add(entry(`fast-${t}`, "fast", t));
    expect(await drainOrder(q)).toEqual([
      "fast-500",
      "fast-1000",
      "fast-1500",
      "old-relax",
      "fast-2000",
      "fast-2500",
      "fast-3000",
    ]);
  });

  it("takes a batch of the first job's key, skipping other shapes", async () => {
    const q = new InProcessQueueBackend({ agingMs: AGING_MS });
    await q.add(entry("a", "standard", 0, 64));
    await q.add(entry("b", "standard", 1, 128));
    await q.add(entry("c", "relax", 2, 64));
    await q.add(entry("d", "standard", 3, 64));
    const batch = await q.take(8);
    expect(batch.map((e) => e.job.job_id)).toEqual(["a", "d", "c"]);
    expect(await q.running()).toBe(3);
    expect((await q.take(8)).map((e) => e.job.job_id)).toEqual(["b"]);
    const again = await q.take(2, batchKeyOf(entry("x", "fast", 0, 64).job));
    expect(again).toEqual([]);
  });

  it("refuses a job id that is queued or running, and forgets it once finished", async () => {
    const q = new InProcessQueueBackend({ agingMs: AGING_MS });
    await q.add(entry("other", "fast", 0));
    await q.add(entry("dup", "standard", 0));
    expect(await q.add(entry("dup", "standard", 5))).toEqual({ added: false, position: 1 });
    await q.take(1);
    const [running] = await q.take(1);
    expect(running?.job.job_id).toBe("dup");
    expect(await q.add(entry("dup", "standard", 6))).toEqual({ added: false, position: null });
    await q.finish(["dup"]);
    expect(await q.add(entry("dup", "standard", 7))).toEqual({ added: true, position: 0 });
  });

  it("removes every queued job for a drain, leaving running ones alone", async () => {
    const q = new InProcessQueueBackend({ agingMs: AGING_MS });
    for (const [i, id] of ["a", "b", "c"].entries()) await q.add(entry(id, "standard", i));
    await q.take(1);
    expect((await q.removeQueued()).map((e) => e.job.job_id)).toEqual(["b", "c"]);
    expect(await q.depth()).toEqual({ fast: 0, standard: 0, relax: 0 });
    expect(await q.running()).toBe(1);
  });

  it("cancels a queued job out of service order, leaving a running one alone", async () => {
    const q = new InProcessQueueBackend({ agingMs: AGING_MS });
    for (const [i, id] of ["a", "b", "c"].entries()) await q.add(entry(id, "standard", i));
    await q.take(1);
    expect(await q.cancel("b")).toBe("canceled");
    expect(await q.cancel("b")).toBe("unknown");
    expect(await q.cancel("a")).toBe("running");
    expect(await q.cancel("nope")).toBe("unknown");
    expect(await q.depth()).toEqual({ fast: 0, standard: 1, relax: 0 });
    expect(await drainOrder(q)).toEqual(["c"]);
  });

  it("answers the oldest queued job's arrival, whatever its lane", async () => {
    const q = new InProcessQueueBackend({ agingMs: AGING_MS });
    expect(await q.oldestEnqueuedAt()).toBeNull();
    await q.add(entry("relax-old", "relax", 100));
    await q.add(entry("fast-new", "fast", 900));
    expect(await q.oldestEnqueuedAt()).toBe(100);
    await q.take(1, batchKeyOf(entry("x", "fast", 0).job));
    await q.take(1);
    expect(await q.oldestEnqueuedAt()).toBeNull();
  });
});
