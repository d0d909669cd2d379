import { testKey } from "../testing/signed-client.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../contracts/ids.ts";
import { REGION_PATHS, type RegionJob } from "../../contracts/region-protocol.ts";
import { InProcessQueueBackend } from "../queue/in-process-backend.ts";
import type { QueueEntry } from "../queue/queue-backend.ts";
import { startRegion } from "../region.ts";
import { startEdgeStub, type EdgeStub } from "../testing/edge-stub.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { signedFetch } from "../testing/signed-client.ts";

// Drain with a queue backend that can take jobs back (as a shared Redis queue does): unstarted jobs
// are released to it for another node, not failed back to the edge.

const SECRET = "drain-node-test-secret";
const REGION = "eu-north";

/** The embedded queue plus the release hook a shared backend implements. */
class ReleasingBackend extends InProcessQueueBackend {
  readonly released: QueueEntry[] = [];
  async release(entries: readonly QueueEntry[]): Promise<void> {
    this.released.push(...entries);
  }
}

let model: TestModel;
let dir: string;
let edge: EdgeStub;

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "drain-node-"));
  edge = await startEdgeStub(SECRET);
});
afterAll(async () => {
  await edge.close();
  await rm(dir, { recursive: true, force: true });
});

function job(side: number, seed: number): RegionJob {
  return {
    job_id: newId("generation"),
    request_id: newId("request"),
    account_id: "acct_test",
    project_id: null,
    model: model.manifest.name,
    model_version: model.manifest.version,
    prompt: "a quiet harbour at dawn",
    negative_prompt: null,
    width: side,
    height: side,
    seed,
    priority: "standard",
    callback_url: `${edge.url}${REGION_PATHS.events(REGION)}`,
    submitted_at: new Date().toISOString(),
  };
}

describe("drainNode with a releasing queue backend", () => {
  it("puts unstarted jobs back on the queue and finishes the running one", async () => {
    const backend = new ReleasingBackend({ agingMs: 10_000 });
    const region = await startRegion(
      {
        regionName: REGION,
        port: 0,
        signingKey: testKey(SECRET),
        modelDir: model.modelsDir,
        warmModels: [model.ref],
        objectStore: { kind: "file", dir: join(dir, "objects") },
        executionProvider: "cpu",
        maxBatch: 1,
        eventRetryBaseMs: 10,
        logLevel: "silent",
      },
      { queueBackend: backend },
    );
    const jobs = [512, 64, 64, 64].map((side, seed) => job(side, seed));
    for (const j of jobs) {
      const res = await signedFetch(region.url, SECRET, REGION_PATHS.jobs, {
        body: JSON.stringify(j),
      });
      expect(res.status).toBe(202);
    }
    const eventsOf = (id: string) => edge.events().filter((e) => e.job_id === id);
    await edge.waitFor(() => eventsOf(jobs[0]!.job_id).some((e) => e.type === "running"));

    const report = await region.close();
    expect(report).toMatchObject({ released: 3, rerouted: 0, abandoned: 0, executorBusy: false });
    expect(backend.released.map((e) => e.job.job_id)).toEqual(jobs.slice(1).map((j) => j.job_id));
    expect(eventsOf(jobs[0]!.job_id).map((e) => e.type)).toEqual(["running", "succeeded"]);
    // The edge hears nothing of the released jobs from this node: another node will run them.
    for (const j of jobs.slice(1)) expect(eventsOf(j.job_id)).toEqual([]);
  });
});
