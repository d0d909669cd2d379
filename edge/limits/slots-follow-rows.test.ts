import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { generations } from "../../db/schema/generations.ts";
import { usageLedger } from "../../db/schema/usage-ledger.ts";
import { createEdge } from "../app.ts";
import { sweepLeases } from "../generations/lease-sweep.ts";
import { BackgroundTasks } from "../lib/background-tasks.ts";
import { sweepDeps } from "../routes/generation-deps.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { deliverEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { seedAccount } from "../testing/seed.ts";

// An account's concurrency slots follow its generations' rows. An edge that restarts with work in
// flight (a new process: its in-process limiter starts empty) counts the generations still queued
// or running, no more: work that ended meanwhile, even with its spend left open by a process that
// stopped in between, holds no slot, and the start-up sweep closes that spend.

const SECRET = TEST_SECRETS.regionSigning;

let f: EdgeFixture;
let region: RegionStandIn;
let key: string;

beforeAll(async () => {
  region = await startRegionStandIn({ name: "eu-west", lat: 53.35, lon: -6.26, secret: SECRET });
  f = await createEdgeFixture({ regions: [region.config] });
  key = (await seedAccount(f.db, { plan: "pro" })).key; // 8 at once
});
afterAll(async () => {
  await f?.close();
  await region?.close();
});

/** The same database behind a fresh edge: what a restarted process is. */
function restartedEdge() {
  const tasks = new BackgroundTasks();
  const { app, services } = createEdge({
    db: f.db,
    assets: f.assets,
    regions: [region.config],
    environment: "development",
    secrets: TEST_SECRETS,
    publicUrl: "http://localhost",
    log: () => {},
    waitUntil: tasks.add,
  });
  const sweep = () =>
    sweepLeases(
      { callbackBase: "http://localhost", judgeSilenceFrom: Date.now() + 60_000, atStart: true },
      sweepDeps(services),
    );
  return { app, tasks, sweep };
}

async function submit(app: { request: typeof f.app.request }, seed: number) {
  return app.request("/v1/generations", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt: "a quiet harbour at dawn", seed, width: 256, height: 256 }),
  });
}

describe("a Pro key (8 at once) across an edge restart", () => {
  it("holds exactly the slots of the rows still in flight, and submits again as soon as they end", async () => {
    const ids: string[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      const res = await submit(f.app, seed);
      expect(res.status).toBe(202);
      ids.push(Generation.parse(await res.json()).id);
    }
    expect((await submit(f.app, 9)).status).toBe(429);

    // While the edge is down, 3 of them ended, their spend left open as a process that stopped
    // between the two writes (before they shared a transaction) could leave it.
    const ended = ids.slice(0, 3);
    await f.db
      .update(generations)
      .set({
        status: "failed",
        completedAt: new Date(),
        error: { type: "api_error", code: "x", message: "x" },
      })
      .where(inArray(generations.id, ended));

    const edge = restartedEdge();
    // At once: 5 in flight, so a 6th fits; the 9th in flight would not.
    const sixth = await submit(edge.app, 10);
    expect(sixth.status).toBe(202);
    expect(sixth.headers.get("ratelimit-remaining") ?? "").not.toBe("");
    for (const seed of [11, 12]) expect((await submit(edge.app, seed)).status).toBe(202);
    const full = await submit(edge.app, 13);
    expect(full.status).toBe(429);
    expect((await full.json()).error.code).toBe("concurrency_limit_exceeded");

    // The start-up sweep closes the spend those 3 left open (refunded: they failed).
    await edge.sweep();
    for (const id of ended) {
      const kinds = (
        await f.db.select().from(usageLedger).where(eq(usageLedger.generationId, id))
      ).map((e) => e.kind);
      expect(kinds.sort()).toEqual(["refund", "reserve"]);
    }

    // The region finishes one of the others: its slot is free at once.
    const job = region.jobs.find((j) => j.job_id === ids[3])!;
    const done = await deliverEvent(
      edge.app,
      SECRET,
      succeededEvent(job, "eu-west", new Uint8Array([4])),
    );
    expect(await done.json()).toMatchObject({ outcome: "applied" });
    expect((await submit(edge.app, 14)).status).toBe(202);
    await edge.tasks.drain(5_000);
  });
});
