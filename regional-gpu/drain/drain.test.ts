import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../contracts/ids.ts";
import { REGION_PATHS, type RegionJob } from "../../contracts/region-protocol.ts";
import { startEdgeStub, type EdgeStub } from "../testing/edge-stub.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { signedFetch } from "../testing/signed-client.ts";

// Graceful drain of a real node process: `node regional-gpu/main.ts`, a real SIGTERM, a stub edge
// receiving its signed events and heartbeats.

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const SECRET = "drain-test-signing-secret-0123456789";
const REGION = "us-east";

let model: TestModel;
let dir: string;
let edge: EdgeStub;
const children: Array<{ kill(): void }> = [];

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "region-drain-"));
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  await edge?.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function launch(env: Record<string, string>) {
  edge = await startEdgeStub(SECRET);
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      REGION_NAME: REGION,
      REGION_SIGNING_KEY: `test:${SECRET}`,
      PORT: "0",
      OPS_PORT: "0",
      EDGE_URL: edge.url,
      MODEL_DIR: model.modelsDir,
      WARM_MODELS: model.ref,
      OBJECT_STORE: `file://${join(dir, newId("request"))}`,
      ORT_EP: "cpu",
      MAX_BATCH: "1",
      HEARTBEAT_INTERVAL_MS: "200",
      EVENT_RETRY_BASE_MS: "10",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push({ kill: () => child.kill("SIGKILL") });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((done) =>
    child.on("exit", (code, signal) => done({ code, signal, at: Date.now() })),
  );
  const ready = await edge.waitFor(
    () => lines.find((l) => l.msg === "region node ready") ?? (child.exitCode !== null && stderr),
    60_000,
  );
  if (typeof ready === "string") throw new Error(`node exited: ${ready}`);
  return { child, lines, exited, url: ready.url as string };
}

function job(side: number, over: Partial<RegionJob> = {}): RegionJob {
  return {
    job_id: newId("generation"),
    request_id: newId("request"),
    account_id: "acct_test",
    project_id: null,
    model: model.manifest.name,
    model_version: model.manifest.version,
    prompt: "a quiet harbour at dawn, teal and amber",
    negative_prompt: null,
    width: side,
    height: side,
    seed: 1,
    priority: "standard",
    callback_url: `${edge.url}${REGION_PATHS.events(REGION)}`,
    submitted_at: new Date().toISOString(),
    ...over,
  };
}

const submit = (url: string, j: RegionJob) =>
  signedFetch(url, SECRET, REGION_PATHS.jobs, { body: JSON.stringify(j) });
const eventsOf = (jobId: string) => edge.events().filter((e) => e.job_id === jobId);
const terminal = (jobId: string) =>
  eventsOf(jobId).find((e) => e.type === "succeeded" || e.type === "failed");

describe("SIGTERM drain of node regional-gpu/main.ts", () => {
  it("stops intake, finishes the running job, hands queued jobs back, and exits 0", async () => {
    const node = await launch({ DRAIN_TIMEOUT_MS: "60000" });
    const jobs = [0, 1, 2, 3].map((seed) => job(1024, { seed }));
    for (const j of jobs) expect((await submit(node.url, j)).status).toBe(202);
    await edge.waitFor(() => eventsOf(jobs[0]!.job_id).some((e) => e.type === "running"));
    const runningAtSignal = jobs.filter((j) =>
      eventsOf(j.job_id).some((e) => e.type === "running"),
    );
    const signalledAt = Date.now();
    node.child.kill("SIGTERM");

    // While the running job finishes: not ready, new jobs refused with Retry-After, heartbeat says so.
    await edge.waitFor(() => node.lines.some((l) => l.msg === "draining"));
    expect((await fetch(`${node.url}/readyz`)).status).toBe(503);
    const refused = await submit(node.url, job(64));
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await refused.json()).error.code).toBe("region_draining");
    await edge.waitFor(() => edge.heartbeats().some((h) => h.draining && !h.ready));

    const { code } = await node.exited;
    expect(code).toBe(0);
    expect(runningAtSignal.length).toBeGreaterThan(0);
    for (const j of jobs) {
      const ran = eventsOf(j.job_id).some((e) => e.type === "running");
      if (runningAtSignal.includes(j) || ran) {
        // In flight at the signal (or started before the drain took the queue): finished.
        expect(terminal(j.job_id)?.type).toBe("succeeded");
      } else {
        expect(terminal(j.job_id)).toMatchObject({
          type: "failed",
          retryable: true,
          error: { code: "region_draining" },
        });
      }
    }
    const handedBack = jobs.filter((j) => terminal(j.job_id)?.type === "failed");
    expect(handedBack.length).toBeGreaterThan(0);
    const stopped = node.lines.find((l) => l.msg === "stopped")!;
    expect(stopped).toMatchObject({ rerouted: handedBack.length, abandoned: 0, released: 0 });
    expect(Date.parse(String(stopped.time))).toBeGreaterThanOrEqual(signalledAt);
  });

  it("ends within DRAIN_TIMEOUT_MS when the running job outlasts it, reporting that job failed", async () => {
    const timeoutMs = 1_500;
    const node = await launch({ DRAIN_TIMEOUT_MS: String(timeoutMs) });
    const long = job(2048);
    expect((await submit(node.url, long)).status).toBe(202);
    await edge.waitFor(() => eventsOf(long.job_id).some((e) => e.type === "running"));
    const signalledAt = Date.now();
    node.child.kill("SIGTERM");
    const { code, signal, at } = await node.exited;
    // session.run cannot be interrupted, so the node ends itself without teardown (main.ts).
    expect({ code, signal }).toEqual({ code: null, signal: "SIGKILL" });
    // The drain's own budget, plus the process's teardown.
    expect(at - signalledAt).toBeLessThan(timeoutMs + 1_000);
    expect(terminal(long.job_id)).toMatchObject({
      type: "failed",
      retryable: false,
      error: { code: "shutdown_deadline_exceeded" },
    });
    expect(node.lines.find((l) => l.msg === "stopped")).toMatchObject({
      abandoned: 1,
      executor_busy: true,
    });
  });
});
