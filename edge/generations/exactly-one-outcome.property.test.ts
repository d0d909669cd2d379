import { testRegionKey } from "../testing/region-keys.ts";
import fc from "fast-check";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation, TERMINAL_STATUSES } from "../../contracts/api.ts";
import {
  REGION_PATHS,
  RegionJob,
  type HeldJobs,
  type JobEvent,
} from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import type { Database } from "../../db/client/index.ts";
import { generations, type GenerationRow } from "../../db/schema/generations.ts";
import { usageLedger } from "../../db/schema/usage-ledger.ts";
import { webhookDeliveries } from "../../db/schema/webhook-deliveries.ts";
import { createEdge } from "../app.ts";
import { sweepLeases } from "../generations/lease-sweep.ts";
import { BackgroundTasks } from "../lib/background-tasks.ts";
import { sweepDeps } from "../routes/generation-deps.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { idleHeartbeat } from "../testing/heartbeats.ts";
import { blockedEvent, failedEvent, runningEvent, succeededEvent } from "../testing/job-events.ts";
import { seedAccount, TEST_MODEL } from "../testing/seed.ts";

// Random interleavings of submits, dispatches, region events (from the current attempt and from
// earlier ones), heartbeats that forget jobs, regions going down and coming back, cancels, time
// passing with the lease sweep, and edge restarts. Whatever happens, every generation reaches
// exactly one terminal state, with one webhook message and a ledger that balances: one hold, one
// closing, and a charge only for an output delivered.

const SECRET = TEST_SECRETS.regionSigning;
const REGIONS = [
  { name: "eu-west", endpoint: "http://eu-west.region.test", lat: 53.35, lon: -6.26 },
  { name: "us-east", endpoint: "http://us-east.region.test", lat: 39.04, lon: -77.49 },
];
const WARM = [`${TEST_MODEL.name}@${TEST_MODEL.version}`];

/** A region as the test imagines it: up or down, and the jobs it holds. */
interface RegionModel {
  name: string;
  up: boolean;
  held: Map<string, RegionJob>;
}

let fixture: EdgeFixture;
let offsetMs = 0;
const now = () => Date.now() + offsetMs;

beforeAll(async () => {
  fixture = await createEdgeFixture({ regions: REGIONS });
});
afterAll(async () => {
  await fixture?.close();
});

type Action =
  | { t: "submit" }
  | {
      t: "event";
      g: number;
      pick: number;
      kind: "running" | "succeeded" | "failed" | "retry" | "blocked";
    }
  | { t: "beat"; r: number; forget: boolean }
  | { t: "down"; r: number }
  | { t: "up"; r: number }
  | { t: "cancel"; g: number }
  | { t: "tick"; ms: number }
  | { t: "restart" };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ t: "submit" } as const) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("event" as const),
      g: fc.nat(20),
      pick: fc.nat(3),
      kind: fc.constantFrom("running", "succeeded", "failed", "retry", "blocked"),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant("beat" as const), r: fc.nat(1), forget: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("down" as const), r: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("up" as const), r: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("cancel" as const), g: fc.nat(20) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("tick" as const),
      ms: fc.integer({ min: 1_000, max: 40_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "restart" } as const) },
);

/** One edge process over the shared database; `restart` makes a new one. */
function startEdge(db: Database, regions: RegionModel[]) {
  const tasks = new BackgroundTasks();
  const byHost = new Map(
    regions.map((r) => [new URL(REGIONS.find((c) => c.name === r.name)!.endpoint).host, r]),
  );
  // Regions (and webhook targets) answer in process: a region that is down refuses connections.
  const fetchStub: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const region = byHost.get(url.host);
    if (!region) return new Response("ok"); // a webhook target
    if (!region.up) throw new TypeError("fetch failed: connection refused");
    const cancel = /^\/v1\/jobs\/([^/]+)\/cancel$/.exec(url.pathname);
    if (cancel) {
      const jobId = decodeURIComponent(cancel[1]!);
      const state = region.held.delete(jobId) ? "canceled" : "finished";
      return Response.json({ job_id: jobId, state });
    }
    const job = RegionJob.parse(JSON.parse(String(init?.body)));
    region.held.set(job.job_id, job);
    return Response.json(
      {
        job_id: job.job_id,
        region: region.name,
        queue_position: 0,
        estimated_wait_ms: 500,
        holder: null,
      },
      { status: 202 },
    );
  };
  const startedAt = now();
  const { app, services } = createEdge({
    db,
    assets: fixture.assets,
    regions: REGIONS,
    environment: "development",
    secrets: TEST_SECRETS,
    publicUrl: "http://localhost",
    log: () => {},
    clock: now,
    fetch: fetchStub,
    waitUntil: tasks.add,
    tuning: { dispatchTimeoutMs: 1_000, breakerThreshold: 1_000 },
  });
  const deps = sweepDeps(services);
  return {
    app,
    tasks,
    sweep: (atStart = false) =>
      sweepLeases(
        {
          callbackBase: "http://localhost",
          judgeSilenceFrom: startedAt + services.tuning.heartbeatTtlMs,
          atStart,
        },
        deps,
      ),
  };
}

async function signedPost(
  app: { request: typeof fixture.app.request },
  path: string,
  body: object,
) {
  const text = JSON.stringify(body);
  // /internal/regions/<region>/...: signed with that region's key.
  const key = testRegionKey(SECRET, path.split("/")[3]!);
  const headers = await signRequest(key, { method: "POST", path, body: text }, now());
  return app.request(path, {
    method: "POST",
    body: text,
    headers: { ...headers, "content-type": "application/json" },
  });
}

/** The region reports on a job it holds; a terminal event lets go of it. */
function eventFor(
  kind: Extract<Action, { t: "event" }>["kind"],
  job: RegionJob,
  region: string,
): JobEvent {
  const at = new Date(now()).toISOString();
  switch (kind) {
    case "running":
      return { ...runningEvent(job, region), at };
    case "succeeded":
      return { ...succeededEvent(job, region, new TextEncoder().encode(job.job_id)), at };
    case "failed":
      return { ...failedEvent(job, region, false, "inference_error"), at };
    case "retry":
      return { ...failedEvent(job, region, true), at };
    case "blocked":
      return { ...blockedEvent(job, region), at };
  }
}

async function run(actions: Action[]) {
  const db = fixture.db;
  const { key, account } = await seedAccount(db, { plan: "pro" });
  const regions: RegionModel[] = REGIONS.map((r) => ({ name: r.name, up: true, held: new Map() }));
  let edge = startEdge(db, regions);
  const ids: string[] = [];

  const beat = async (r: RegionModel, forget = false) => {
    if (!r.up) return;
    const jobs = [...r.held.keys()];
    if (forget && jobs.length > 0) r.held.delete(jobs[0]!);
    const holds: HeldJobs = { scope: "region", jobs: [...r.held.keys()], complete: true };
    const hb = { ...idleHeartbeat(r.name, WARM), at: new Date(now()).toISOString(), holds };
    expect((await signedPost(edge.app, REGION_PATHS.heartbeat(r.name), hb)).status).toBe(200);
  };
  for (const r of regions) await beat(r);

  for (const a of actions) {
    switch (a.t) {
      case "submit": {
        const res = await edge.app.request("/v1/generations", {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({
            prompt: "a quiet harbour at dawn",
            seed: ids.length + 1,
            width: 256,
            height: 256,
            webhook: { url: "https://hooks.example/genart" },
          }),
        });
        expect([202, 429, 503]).toContain(res.status);
        if (res.status === 202) ids.push(Generation.parse(await res.json()).id);
        break;
      }
      case "event": {
        if (ids.length === 0) break;
        const id = ids[a.g % ids.length]!;
        const holding = regions.flatMap((r) =>
          [...r.held.values()].filter((j) => j.job_id.startsWith(id)).map((job) => ({ r, job })),
        );
        const chosen = holding[a.pick % Math.max(1, holding.length)];
        if (!chosen || !chosen.r.up) break;
        const event = eventFor(a.kind, chosen.job, chosen.r.name);
        const res = await signedPost(edge.app, REGION_PATHS.events(chosen.r.name), event);
        expect([200, 404]).toContain(res.status);
        if (a.kind !== "running") chosen.r.held.delete(chosen.job.job_id);
        break;
      }
      case "beat":
        await beat(regions[a.r]!, a.forget);
        break;
      case "down":
        regions[a.r]!.up = false;
        regions[a.r]!.held.clear(); // a process that stops forgets what it held
        break;
      case "up":
        regions[a.r]!.up = true;
        await beat(regions[a.r]!);
        break;
      case "cancel": {
        if (ids.length === 0) break;
        const res = await edge.app.request(`/v1/generations/${ids[a.g % ids.length]}/cancel`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}` },
        });
        expect([200, 409]).toContain(res.status);
        break;
      }
      case "tick":
        offsetMs += a.ms;
        for (const r of regions) await beat(r);
        await edge.tasks.drain(5_000);
        await edge.sweep();
        break;
      case "restart":
        await edge.tasks.drain(5_000);
        edge = startEdge(db, regions);
        await edge.sweep(true);
        break;
    }
    await edge.tasks.drain(5_000);
  }

  // The end of the story: every region comes back and finishes what it holds; time passes.
  for (let round = 0; round < 40; round++) {
    const rows = await db
      .select()
      .from(generations)
      .where(inArray(generations.id, ids.length ? ids : ["none"]));
    if (rows.every((row) => TERMINAL_STATUSES.has(row.status))) break;
    for (const r of regions) {
      r.up = true;
      for (const job of [...r.held.values()]) {
        await signedPost(edge.app, REGION_PATHS.events(r.name), eventFor("succeeded", job, r.name));
        r.held.delete(job.job_id);
      }
    }
    offsetMs += 20_000;
    for (const r of regions) await beat(r);
    await edge.tasks.drain(5_000);
    await edge.sweep();
    await edge.tasks.drain(5_000);
  }

  const rows = ids.length
    ? await db.select().from(generations).where(inArray(generations.id, ids))
    : [];
  for (const row of rows) await checkOutcome(db, row);
  // No slot is left held: with the regions up, the account can fill its 8 at once.
  for (const r of regions) {
    r.up = true;
    await beat(r);
  }
  for (let seed = 0; seed < 8; seed++) {
    const res = await edge.app.request("/v1/generations", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "slots", seed: 10_000 + seed, width: 256, height: 256 }),
    });
    expect(res.status, `slot ${seed + 1} of 8 for ${account.id}`).toBe(202);
    const id = Generation.parse(await res.json()).id;
    await edge.app.request(`/v1/generations/${id}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
    });
  }
  await edge.tasks.drain(5_000);
}

async function checkOutcome(db: Database, row: GenerationRow) {
  expect(TERMINAL_STATUSES.has(row.status), `${row.id} is ${row.status}`).toBe(true);
  const ledger = await db.select().from(usageLedger).where(eq(usageLedger.generationId, row.id));
  const kinds = ledger.map((e) => e.kind).sort();
  expect(kinds, row.id).toEqual(
    row.status === "succeeded" ? ["reserve", "settle"] : ["refund", "reserve"],
  );
  const total = ledger.reduce((sum, e) => sum + e.amountMicrousd, 0);
  expect(total, row.id).toBe(row.status === "succeeded" ? (row.costActualMicrousd ?? 0) : 0);
  const messages = await db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.generationId, row.id));
  expect(
    messages.map((m) => m.event),
    row.id,
  ).toEqual([row.status]);
}

describe("any interleaving of dispatch, events, heartbeats, region loss, cancel and restart", () => {
  it("ends every generation exactly once, with one webhook and a balanced ledger", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 30 }), async (actions) => {
        await run(actions);
      }),
      { numRuns: 25, seed: 20261207, endOnFailure: true },
    );
  }, 240_000);
});
