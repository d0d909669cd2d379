import { testKey } from "./testing/signed-client.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../contracts/ids.ts";
import { JobAccepted, REGION_PATHS, type RegionJob } from "../contracts/region-protocol.ts";
import { createLogger } from "./log.ts";
import { startRegion, type RunningRegion } from "./region.ts";
import { startEdgeStub, type EdgeStub } from "./testing/edge-stub.ts";
import { parsePrometheusText, sampleValue } from "./testing/prometheus-text.ts";
import { referenceModel, type TestModel } from "./testing/reference-model.ts";
import { signedFetch } from "./testing/signed-client.ts";

// What a running node tells the outside about itself: /metrics, heartbeats with queue position
// inputs, queue answers with position and estimated wait, and JSON log lines that carry the edge's
// request id.

const SECRET = "observability-test-secret";
const REGION = "sa-east";

let model: TestModel;
let dir: string;
let edge: EdgeStub;
let region: RunningRegion;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "observability-"));
  edge = await startEdgeStub(SECRET);
  region = await startRegion(
    {
      regionName: REGION,
      nodeId: "node-a",
      port: 0,
      signingKey: testKey(SECRET),
      edgeUrl: edge.url,
      modelDir: model.modelsDir,
      warmModels: [model.ref],
      objectStore: { kind: "file", dir: join(dir, "objects") },
      executionProvider: "cpu",
      maxBatch: 4,
      maxBatchDelayMs: 100,
      heartbeatIntervalMs: 100,
      eventRetryBaseMs: 10,
    },
    {
      logger: createLogger({
        level: "info",
        write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
      }),
    },
  );
});
afterAll(async () => {
  await region?.close();
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
    prompt: "amber lanterns over a dark canal",
    negative_prompt: null,
    width: 64,
    height: 64,
    seed: 3,
    priority: "standard",
    callback_url: `${edge.url}${REGION_PATHS.events(REGION)}`,
    submitted_at: new Date().toISOString(),
    ...over,
  };
}

const submit = async (j: RegionJob) => {
  const res = await signedFetch(region.url, SECRET, REGION_PATHS.jobs, {
    body: JSON.stringify(j),
    headers: { "x-request-id": j.request_id },
  });
  expect(res.status).toBe(202);
  return JobAccepted.parse(await res.json());
};
const terminal = (id: string) =>
  edge.events().find((e) => e.job_id === id && (e.type === "succeeded" || e.type === "failed"));

describe("a running node's metrics, heartbeats and logs", () => {
  it(
    "batches, answers positions and waits, and shows it all in /metrics and heartbeats",
    { timeout: 120_000 },
    async () => {
      // A first job measures the service time the wait estimates are made from.
      const first = job();
      await submit(first);
      await edge.waitFor(() => terminal(first.job_id));

      // A 1024 x 1024 job occupies the executor; same-shape jobs queue behind it and then batch.
      const blocker = job({ width: 1024, height: 1024 });
      await submit(blocker);
      await edge.waitFor(() => edge.events().some((e) => e.job_id === blocker.job_id));
      const burst = [1, 2, 3].map((seed) =>
        job({ seed, priority: seed === 3 ? "fast" : "standard" }),
      );
      const answers = [];
      for (const j of burst) answers.push(await submit(j));
      expect(answers.map((a) => a.queue_position)).toEqual([0, 1, 0]);
      for (const a of answers) expect(a.estimated_wait_ms).toBeGreaterThan(0);
      // This node's own queue holds them: the edge's leases follow its heartbeats.
      for (const a of answers) expect(a.holder).toBe("node-a");

      const beat = await edge.waitFor(
        () =>
          edge.heartbeats().find((h) => h.queue_depth.standard === 2 && h.queue_depth.fast === 1),
        60_000,
      );
      expect(beat).toMatchObject({
        node_id: "node-a",
        in_flight: 1,
        capacity: 4,
        // 3 queued + the blocker running, on the one node.
        backlog_per_instance: 4,
      });
      expect(beat.oldest_job_age_ms).toBeGreaterThanOrEqual(0);
      // The heartbeat renews the edge's leases on exactly the jobs the node still answers for.
      expect(beat.holds).toMatchObject({ scope: "node", complete: true });
      expect([...beat.holds!.jobs].sort()).toEqual([blocker, ...burst].map((j) => j.job_id).sort());
      expect(beat.estimated_wait_ms!.relax).toBeGreaterThanOrEqual(beat.estimated_wait_ms!.fast);
      expect(beat.service_ms_per_image).toBeGreaterThan(0);

      await edge.waitFor(() => [blocker, ...burst].every((j) => terminal(j.job_id)), 60_000);
      for (const j of burst) {
        expect(terminal(j.job_id)).toMatchObject({ type: "succeeded", timings: { batch_size: 3 } });
      }

      // The edge gave up on one (its lease expired): counted by reason and by what the node found.
      const cancel = await signedFetch(region.url, SECRET, REGION_PATHS.jobCancel(first.job_id), {
        body: JSON.stringify({ reason: "lease_expired" }),
      });
      expect(cancel.status).toBe(200);

      const res = await fetch(`${region.opsUrl}/metrics`);
      expect(res.status).toBe(200);
      const samples = parsePrometheusText(await res.text());
      const labels = { region: REGION, node_id: "node-a" };
      const value = (name: string, more: Record<string, string> = {}) =>
        sampleValue(samples, name, { ...labels, ...more });
      expect(value("genart_images_total", { model: model.ref })).toBe(5);
      expect(
        value("genart_job_cancels_total", { reason: "lease_expired", state: "finished" }),
      ).toBe(1);
      expect(value("genart_batch_size_count", { model: model.ref })).toBe(3);
      expect(value("genart_batch_size_sum", { model: model.ref })).toBe(5);
      expect(value("genart_intake_requests_total", { outcome: "accepted" })).toBe(5);
      expect(value("genart_queue_depth", { lane: "standard" })).toBe(0);
      // Running jobs count until the node marks them finished, just after their events go out.
      await expect
        .poll(async () =>
          sampleValue(
            parsePrometheusText(await (await fetch(`${region.opsUrl}/metrics`)).text()),
            "genart_backlog_per_instance",
            labels,
          ),
        )
        .toBe(0);
      expect(value("genart_node_ready")).toBe(1);
      expect(value("genart_max_batch_size")).toBe(4);
      expect(value("genart_inference_seconds_count", { model: model.ref })).toBe(3);
      expect(samples.some((s) => s.name === "genart_process_cpu_seconds_total")).toBe(true);
    },
  );

  it("writes JSON log lines that carry the edge's request id through the job's life", async () => {
    const j = job({ seed: 99 });
    await submit(j);
    await edge.waitFor(() => terminal(j.job_id));
    const ofJob = lines.filter((l) => l.request_id === j.request_id);
    expect(ofJob.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["job accepted", "job succeeded"]),
    );
    for (const line of ofJob) {
      expect(line).toMatchObject({ region: REGION, node_id: "node-a", job_id: j.job_id });
      expect(typeof line.time).toBe("string");
      expect(["debug", "info", "warn", "error"]).toContain(line.level);
    }
  });
});
