import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { JobEvent, REGION_PATHS, type RegionJob } from "../../contracts/region-protocol.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import { usageLedger } from "../../db/schema/usage-ledger.ts";
import { startRegion, type RunningRegion } from "../../regional-gpu/region.ts";
import { gatedSessions } from "../../regional-gpu/testing/gated-sessions.ts";
import { referenceModel } from "../../regional-gpu/testing/reference-model.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { testRegionKey } from "../testing/region-keys.ts";
import { deliverEvent, succeededEvent } from "../testing/job-events.ts";

// Cancel from the edge to a real regional node (reference model on ONNX Runtime, in-process queue,
// one job at a time), the edge served over HTTP so the node's signed events reach it. The node's
// model is held inside session.run (gated sessions) while jobs queue behind it, and the edge's
// event endpoint can be made to refuse events, so the edge still thinks a running job is queued.

const SECRET = TEST_SECRETS.regionSigning;
const REGION = "eu-west";

let f: EdgeFixture;
let region: RunningRegion;
let dir: string;
let edgeServer: ReturnType<typeof serve>;
const gated = gatedSessions();
/** Events the node sent that reached the edge's handler. */
const arrived: JobEvent[] = [];
let refuseEvents = false;

beforeAll(async () => {
  const model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "edge-cancel-"));
  let app: EdgeFixture["app"] | undefined;
  const edgeUrl = await new Promise<string>((listening) => {
    edgeServer = serve(
      {
        hostname: "127.0.0.1",
        port: 0,
        fetch: async (req: Request) => {
          if (new URL(req.url).pathname === REGION_PATHS.events(REGION)) {
            if (refuseEvents) return new Response(null, { status: 503 });
            arrived.push(JobEvent.parse(await req.clone().json()));
          }
          return app!.fetch(req);
        },
      },
      (info: AddressInfo) => listening(`http://127.0.0.1:${info.port}`),
    );
  });
  region = await startRegion(
    {
      regionName: REGION,
      port: 0,
      signingKey: testRegionKey(SECRET, REGION),
      modelDir: model.modelsDir,
      warmModels: [model.ref],
      objectStore: { kind: "file", dir: join(dir, "objects") },
      executionProvider: "cpu",
      maxBatch: 1,
      eventRetryBaseMs: 10,
      logLevel: "silent",
    },
    { sessions: gated.factory },
  );
  f = await createEdgeFixture({
    regions: [{ name: REGION, endpoint: region.url, lat: 53.35, lon: -6.26 }],
    publicUrl: edgeUrl,
  });
  app = f.app;
});
afterAll(async () => {
  gated.open();
  await region?.close();
  await f?.close();
  await new Promise((done) => edgeServer?.close(done));
  await rm(dir, { recursive: true, force: true });
});

async function submit(prompt: string): Promise<Generation> {
  const res = await f.call("/v1/generations", {
    method: "POST",
    json: { prompt, width: 64, height: 64, cache: false },
  });
  expect(res.status).toBe(202);
  return Generation.parse(await res.json());
}
const cancel = (id: string) => f.call(`/v1/generations/${id}/cancel`, { method: "POST" });
const statusOf = async (id: string) => (await getGeneration(f.db, id))?.status;
const eventsOf = (id: string) => arrived.filter((e) => e.job_id === id).map((e) => e.type);
const waitFor = async (probe: () => Promise<boolean> | boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("cancel from the edge to a real regional node", () => {
  it("a queued job never runs; a job already running is not charged and sends no outcome", async () => {
    gated.close();
    refuseEvents = true;
    const warmupRuns = gated.runs();
    // `started` reaches the model; the edge does not hear so (its events are refused for now).
    const started = await submit("a lighthouse in fog");
    await waitFor(() => gated.runs() > warmupRuns);
    const runsWhileHeld = gated.runs();
    const queued = await submit("a harbour at dawn");
    expect(await statusOf(started.id)).toBe("queued");

    for (const g of [queued, started]) {
      const res = await cancel(g.id);
      expect(res.status).toBe(200);
      expect(Generation.parse(await res.json()).status).toBe("canceled");
    }
    await f.tasks.drain(5_000);
    const told = (id: string) =>
      f.logs.find((l) => l.job_id === id && String(l.msg).startsWith("region"));
    expect(told(queued.id)).toMatchObject({ msg: "region dropped job", state: "canceled" });
    expect(told(started.id)).toMatchObject({
      msg: "region could not drop job: running",
      state: "running",
    });

    // Queued behind both: once it has run, the canceled queued job would have run before it.
    const after = await submit("a market at noon");
    refuseEvents = false;
    gated.open();
    await waitFor(async () => (await statusOf(after.id)) === "succeeded");
    expect(gated.runs() - runsWhileHeld).toBe(1);
    expect(eventsOf(queued.id)).toEqual([]);
    expect(eventsOf(after.id)).toEqual(["running", "succeeded"]);
    // The running job's batch ended without an outcome: nothing stored, nothing sent.
    await region.close();
    expect(eventsOf(started.id).filter((t) => t !== "running")).toEqual([]);

    for (const g of [queued, started]) {
      expect(await getGeneration(f.db, g.id)).toMatchObject({
        status: "canceled",
        assetKey: null,
        costActualMicrousd: null,
      });
      const ledger = await f.db
        .select()
        .from(usageLedger)
        .where(eq(usageLedger.generationId, g.id));
      expect(ledger.map((e) => e.kind).sort()).toEqual(["refund", "reserve"]);
    }
    // Had the node sent the running job's result anyway, the edge would not have taken it.
    const row = await getGeneration(f.db, started.id);
    const job = { job_id: row!.routing!.job_id, request_id: "req_late" } as RegionJob;
    const late = succeededEvent(job, REGION, new TextEncoder().encode("late"));
    const res = await deliverEvent(f.app, SECRET, late);
    expect(await res.json()).toEqual({ ok: true, outcome: "ignored" });
    expect(await getGeneration(f.db, started.id)).toMatchObject({ status: "canceled" });
  });
});
