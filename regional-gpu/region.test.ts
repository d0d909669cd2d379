import { testKey } from "./testing/signed-client.ts";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { newId } from "../contracts/ids.ts";
import {
  JobAccepted,
  REGION_PATHS,
  type JobEvent,
  type RegionJob,
} from "../contracts/region-protocol.ts";
import { FsObjectStore } from "../storage/fs.ts";
import { createS3Client, S3ObjectStore } from "../storage/s3.ts";
import type { RegionNodeConfigInput } from "./config.ts";
import { ModelChecksumError } from "./models/model-pool.ts";
import { startRegion, type RegionOverrides, type RunningRegion } from "./region.ts";
import { gatedSessions } from "./testing/gated-sessions.ts";
import { redisServerInstalled, startRedisServer } from "./testing/redis-server.ts";
import { startEdgeStub, type EdgeStub } from "./testing/edge-stub.ts";
import { referenceModel, type TestModel } from "./testing/reference-model.ts";
import { signedFetch } from "./testing/signed-client.ts";

// A whole regional node on real parts: ONNX Runtime running the reference model, the PNG encoder, the
// on-disk object store, HTTP on 127.0.0.1, and a stub edge receiving signed events and heartbeats.

const SECRET = "region-test-signing-secret";
const REGION = "eu-west";

let model: TestModel;
let edge: EdgeStub;
let dir: string;
const running: RunningRegion[] = [];

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "region-e2e-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
  await edge?.close();
});

async function boot(over: Partial<RegionNodeConfigInput> = {}, overrides: RegionOverrides = {}) {
  edge = await startEdgeStub(SECRET);
  const objects = join(dir, newId("request"));
  const region = await startRegion(
    {
      regionName: REGION,
      port: 0,
      signingKey: testKey(SECRET),
      edgeUrl: edge.url,
      modelDir: model.modelsDir,
      warmModels: [model.ref],
      objectStore: { kind: "file", dir: objects },
      executionProvider: "cpu",
      heartbeatIntervalMs: 100,
      eventRetryBaseMs: 10,
      logLevel: (process.env.TEST_LOG_LEVEL ?? "silent") as "silent",
      ...over,
    },
    overrides,
  );
  running.push(region);
  return { region, store: new FsObjectStore(objects), objects };
}

function job(over: Partial<RegionJob> = {}): RegionJob {
  return {
    job_id: newId("generation"),
    request_id: newId("request"),
    account_id: "acct_test",
    project_id: null,
    model: model.manifest.name,
    model_version: model.manifest.version,
    prompt: "a quiet harbour at dawn, teal and amber",
    negative_prompt: "text",
    width: 64,
    height: 64,
    seed: 42,
    priority: "standard",
    callback_url: `${edge.url}${REGION_PATHS.events(REGION)}`,
    submitted_at: new Date().toISOString(),
    ...over,
  };
}

async function submit(region: RunningRegion, j: RegionJob): Promise<Response> {
  return signedFetch(region.url, SECRET, REGION_PATHS.jobs, { body: JSON.stringify(j) });
}

async function cancel(region: RunningRegion, jobId: string) {
  const res = await signedFetch(region.url, SECRET, REGION_PATHS.jobCancel(jobId), { body: "" });
  const body = (await res.json()) as { state?: string };
  return res.status === 200 ? { status: res.status, state: body.state } : { status: res.status };
}

const eventsOf = (jobId: string) => edge.events().filter((e) => e.job_id === jobId);
const terminal = (jobId: string) =>
  eventsOf(jobId).find((e) => e.type === "succeeded" || e.type === "failed");
const succeeded = (e: JobEvent | undefined) => {
  if (e?.type !== "succeeded") throw new Error(`expected succeeded, got ${JSON.stringify(e)}`);
  return e;
};

describe("regional node", () => {
  it("runs a job from signed intake to a stored PNG and signed events", async () => {
    const { region, store } = await boot();
    const j = job();
    const res = await submit(region, j);
    expect(res.status).toBe(202);
    expect(JobAccepted.parse(await res.json())).toMatchObject({ job_id: j.job_id, region: REGION });

    const done = succeeded(await edge.waitFor(() => terminal(j.job_id)));
    // Every event reached the stub with a valid signature (it records nothing else), in order.
    expect(eventsOf(j.job_id).map((e) => e.type)).toEqual(["running", "succeeded"]);
    expect(done).toMatchObject({ region: REGION, request_id: j.request_id });
    expect(done.execution_provider).toBe("cpu");
    expect(done.gpu_ms).toBeGreaterThan(0);
    expect(done.timings.batch_size).toBe(1);
    expect(done.timings.inference_ms).toBeGreaterThanOrEqual(done.gpu_ms);

    const stored = await store.get(done.output.key);
    expect(stored).not.toBeNull();
    const sha256 = createHash("sha256").update(stored!.body).digest("hex");
    expect(done.output).toMatchObject({
      key: `${sha256}.png`,
      sha256,
      content_type: "image/png",
      bytes: stored!.size,
      width: 64,
      height: 64,
    });
    const meta = await sharp(stored!.body).metadata();
    expect(meta).toMatchObject({ format: "png", width: 64, height: 64, channels: 3 });

    // The edge fills its cache through the signed object route.
    const served = await signedFetch(region.url, SECRET, REGION_PATHS.object(done.output.key));
    expect(served.status).toBe(200);
    expect(served.headers.get("etag")).toBe(stored!.etag);
    expect(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(stored!.body))).toBe(true);

    // Same request, new job: same bytes, same key.
    const again = job({ job_id: newId("generation") });
    await submit(region, again);
    expect(succeeded(await edge.waitFor(() => terminal(again.job_id))).output.sha256).toBe(sha256);

    const beat = await edge.waitFor(() => edge.heartbeats().at(-1));
    expect(beat).toMatchObject({
      region: REGION,
      ready: true,
      draining: false,
      warm_models: [model.ref],
      execution_provider: "cpu",
    });
  });

  it("serves lanes in priority order behind a running job", async () => {
    // One job per batch, so each lane's job starts on its own (a batch would start them together).
    const { region } = await boot({ maxBatch: 1 });
    const blocker = job({ width: 512, height: 512 });
    await submit(region, blocker);
    await edge.waitFor(() => eventsOf(blocker.job_id).length > 0);
    const lanes = (["relax", "standard", "fast"] as const).map((priority) => job({ priority }));
    for (const j of lanes) expect((await submit(region, j)).status).toBe(202);
    await edge.waitFor(() => lanes.every((j) => terminal(j.job_id)));
    const started = edge
      .events()
      .filter((e) => e.type === "running" && e.job_id !== blocker.job_id)
      .map((e) => lanes.find((j) => j.job_id === e.job_id)!.priority);
    expect(started).toEqual(["fast", "standard", "relax"]);
  });

  it("batches jobs of one shape, with the same bytes as running them alone", async () => {
    const { region } = await boot({ maxBatch: 4, maxBatchDelayMs: 300 });
    const solo = job({ seed: 7 });
    await submit(region, solo);
    const alone = succeeded(await edge.waitFor(() => terminal(solo.job_id)));

    const batch = [job({ seed: 7 }), job({ seed: 8 }), job({ seed: 9, priority: "relax" })];
    const other = job({ width: 128 });
    await Promise.all([...batch, other].map((j) => submit(region, j)));
    await edge.waitFor(() => [...batch, other].every((j) => terminal(j.job_id)));
    const results = batch.map((j) => succeeded(terminal(j.job_id)));
    expect(results.map((r) => r.timings.batch_size)).toEqual([3, 3, 3]);
    expect(succeeded(terminal(other.job_id)).timings.batch_size).toBe(1);
    expect(results[0]!.output.sha256).toBe(alone.output.sha256);
    expect(new Set(results.map((r) => r.output.sha256)).size).toBe(3);
  });

  it("delivers events through an edge that is briefly unreachable", async () => {
    const { region } = await boot();
    let refusals = 0;
    edge.respond = (req) => (req.path.endsWith("/events") && refusals++ < 3 ? 503 : 204);
    const j = job();
    await submit(region, j);
    await edge.waitFor(() => terminal(j.job_id));
    expect(refusals).toBeGreaterThan(3);
    expect(eventsOf(j.job_id).map((e) => e.type)).toEqual(["running", "succeeded"]);
  });

  it("drains: refuses new jobs, finishes the running one, hands queued ones back", async () => {
    // The first job is held inside session.run until the drain has begun.
    const gated = gatedSessions();
    const { region } = await boot({ maxBatch: 1 }, { sessions: gated.factory });
    gated.close();
    const first = job({ width: 512, height: 512 });
    await submit(region, first);
    await edge.waitFor(() => eventsOf(first.job_id).length > 0);
    const queued = [job(), job({ priority: "fast" }), job({ priority: "relax" })];
    for (const j of queued) expect((await submit(region, j)).status).toBe(202);

    const closing = region.close();
    const refused = await submit(region, job());
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    expect((await fetch(`${region.url}/readyz`)).status).toBe(503);
    gated.open();
    await closing;

    expect(terminal(first.job_id)?.type).toBe("succeeded");
    for (const j of queued) {
      expect(terminal(j.job_id)).toMatchObject({
        type: "failed",
        retryable: true,
        error: { code: "region_draining" },
      });
      expect(eventsOf(j.job_id).some((e) => e.type === "running")).toBe(false);
    }
    // The draining heartbeat is checked by drain/drain.test.ts (a real SIGTERM to a child process).
    await expect(fetch(`${region.url}/healthz`)).rejects.toThrow();
  });

  it("cancels: a queued job never runs; a running one is not stored and sends no outcome", async () => {
    const gated = gatedSessions();
    const { region, objects } = await boot({ maxBatch: 1 }, { sessions: gated.factory });
    gated.close();
    const [running, queued, after] = [job({ seed: 1 }), job({ seed: 2 }), job({ seed: 3 })];
    await submit(region, running);
    await edge.waitFor(() => eventsOf(running.job_id).length > 0);
    for (const j of [queued, after]) expect((await submit(region, j)).status).toBe(202);
    const runsBefore = gated.runs();

    expect(await cancel(region, queued.job_id)).toEqual({ status: 200, state: "canceled" });
    expect(await cancel(region, running.job_id)).toEqual({ status: 200, state: "running" });
    expect(await cancel(region, queued.job_id)).toEqual({ status: 200, state: "canceled" });
    expect((await cancel(region, "gen_never_sent")).status).toBe(404);
    gated.open();

    succeeded(await edge.waitFor(() => terminal(after.job_id)));
    // The queued job never reached the model; the running one's image was dropped, not stored.
    expect(gated.runs() - runsBefore).toBe(1);
    expect(eventsOf(queued.job_id)).toEqual([]);
    expect(eventsOf(running.job_id).map((e) => e.type)).toEqual(["running"]);
    expect(await readdir(join(objects, "meta"))).toEqual([
      `${succeeded(terminal(after.job_id)).output.key}.json`,
    ]);
    expect(await cancel(region, after.job_id)).toEqual({ status: 200, state: "finished" });
  });

  it("reports a job whose model version cannot be loaded as failed", async () => {
    // A second version on disk whose model file no longer matches its manifest.
    const modelDir = join(dir, "models-with-corrupt");
    const { name, version, file, tokenizer } = model.manifest;
    const good = join(modelDir, name, version);
    const bad = join(modelDir, name, "corrupt-1");
    const source = join(model.modelsDir, name, version);
    await Promise.all([mkdir(good, { recursive: true }), mkdir(bad, { recursive: true })]);
    for (const f of ["manifest.json", file, tokenizer.file]) {
      await copyFile(join(source, f), join(good, f));
      await copyFile(join(source, f), join(bad, f));
    }
    const manifest = JSON.parse(await readFile(join(source, "manifest.json"), "utf8"));
    await writeFile(
      join(bad, "manifest.json"),
      JSON.stringify({ ...manifest, version: "corrupt-1" }),
    );
    await writeFile(join(bad, file), "not an onnx model");

    // Warming every model on disk (the default) fails the start: a node never serves a bad file.
    await expect(boot({ modelDir, warmModels: undefined })).rejects.toBeInstanceOf(
      ModelChecksumError,
    );
    await edge.close();

    const { region } = await boot({ modelDir });
    const readyz = await (await fetch(`${region.opsUrl}/status`)).json();
    expect(readyz.warm_models).toEqual([model.ref]);
    const j = job({ model_version: "corrupt-1" });
    expect((await submit(region, j)).status).toBe(202);
    expect(await edge.waitFor(() => terminal(j.job_id))).toMatchObject({
      type: "failed",
      retryable: false,
      error: { code: "model_unavailable" },
    });
    // The node goes on serving the good version.
    const ok = job();
    await submit(region, ok);
    expect((await edge.waitFor(() => terminal(ok.job_id))).type).toBe("succeeded");
  });

  it("publishes to an S3 object store and serves from it", async () => {
    const s3dir = await mkdtemp(join(tmpdir(), "region-s3-"));
    const s3 = new S3rver({
      address: "127.0.0.1",
      port: 0,
      silent: true,
      directory: s3dir,
      configureBuckets: [{ name: "genart-eu", configs: [] }],
    });
    const { port } = await s3.run();
    const endpoint = `http://127.0.0.1:${port}`;
    // The SDK's default credential chain, as on a real host.
    vi.stubEnv("AWS_ACCESS_KEY_ID", "S3RVER");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "S3RVER");
    try {
      const { region } = await boot({
        objectStore: {
          kind: "s3",
          bucket: "genart-eu",
          prefix: "outputs",
          endpoint,
          forcePathStyle: true,
        },
      });
      const j = job();
      await submit(region, j);
      const done = succeeded(await edge.waitFor(() => terminal(j.job_id)));
      const client = createS3Client({
        endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      });
      const stored = await new S3ObjectStore({
        bucket: "genart-eu",
        prefix: "outputs",
        client,
      }).get(done.output.key);
      expect(createHash("sha256").update(stored!.body).digest("hex")).toBe(done.output.sha256);
      expect(stored!.metadata).toMatchObject({ sha256: done.output.sha256, width: "64" });
      const served = await signedFetch(region.url, SECRET, REGION_PATHS.object(done.output.key), {
        headers: { range: "bytes=0-7" },
      });
      expect(served.status).toBe(206);
      expect(Buffer.from(await served.arrayBuffer())).toEqual(
        Buffer.from(stored!.body.subarray(0, 8)),
      );
      client.destroy();
      await Promise.all(running.splice(0).map((r) => r.close()));
    } finally {
      vi.unstubAllEnvs();
      await s3.close();
      await rm(s3dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!redisServerInstalled())(
    "closes everything it opened when its port is taken (models, the shared queue's Redis)",
    async () => {
      const redis = await startRedisServer();
      const taken = createServer().listen(0, "127.0.0.1");
      await once(taken, "listening");
      const { port } = taken.address() as AddressInfo;
      const open = () =>
        process
          .getActiveResourcesInfo()
          // Handles that last (servers, sockets, threads), not requests in flight.
          .filter((r) => !/^(Timeout|Immediate|FSReq|GetAddrInfoReqWrap)/.test(r))
          .sort();
      const before = open();
      try {
        await expect(boot({ port, redisUrl: redis.url })).rejects.toMatchObject({
          code: "EADDRINUSE",
        });
        await edge.close();
        await vi.waitFor(() => expect(open()).toEqual(before), { timeout: 5_000 });
      } finally {
        taken.close();
        await redis.stop();
      }
    },
  );

  it("refuses jobs this region cannot run", async () => {
    const { region } = await boot();
    // 4096 is past the model's limits; intake refuses it before it is queued.
    const tooBig = await submit(region, job({ width: 4096 }));
    expect(tooBig.status).toBe(400);
    const unknown = await submit(region, job({ model_version: "1999-01-01.1" }));
    expect(unknown.status).toBe(404);
  });
});
