import { testKey } from "../testing/signed-client.ts";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ErrorBody } from "../../contracts/errors.ts";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import {
  JobAccepted,
  JobCancelAnswer,
  REGION_PATHS,
  type RegionJob,
} from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { JobIntake } from "../intake/job-intake.ts";
import { NodeLifecycle } from "../lifecycle.ts";
import { createLogger } from "../log.ts";
import { ThroughputMeter } from "../metrics/throughput.ts";
import { LocalModelStore } from "../models/model-store.ts";
import { InProcessQueueBackend } from "../queue/in-process-backend.ts";
import { JobQueue } from "../queue/job-queue.ts";
import { createRegionApp, createRegionOpsApp } from "./app.ts";

// The HTTP surface on real parts (queue, on-disk model catalog and object store), with no scheduler
// draining the queue, so queue states are exact. app.request drives it without a server.

const SECRET = "app-test-signing-secret";
const sha = (c: string) => c.repeat(64);

const manifest: ModelManifest = {
  name: "cppn-glove",
  version: "v1",
  pipeline: "cppn-text2img",
  file: "model.onnx",
  sha256: sha("a"),
  bytes: 1,
  inputs: [{ name: "token_ids", type: "int64", shape: ["batch", 64] }],
  outputs: [{ name: "image", type: "uint8", shape: ["batch", "pixels", 3] }],
  tokenizer: { kind: "word-vocab", file: "vocab.txt", sha256: sha("b"), max_tokens: 64 },
  output: { channels: 3, format: "uint8-rgb" },
  limits: { min_side: 64, max_side: 1024, multiple_of: 64 },
  gpu_ms_per_megapixel: 400,
  measured_on: "cpu",
  created_by: "app.test.ts",
};

let dir: string;
let store: FsObjectStore;
let lifecycle: NodeLifecycle;
let queue: JobQueue;
let app: ReturnType<typeof createRegionApp>;
let n = 0;

const job = (over: Partial<RegionJob> = {}): RegionJob => ({
  job_id: `gen_${String(++n).padStart(26, "0")}`,
  request_id: `req_${n}`,
  account_id: "acct_1",
  project_id: null,
  model: "cppn-glove",
  model_version: "v1",
  prompt: "teal harbour at dawn",
  negative_prompt: null,
  width: 64,
  height: 64,
  seed: 7,
  priority: "standard",
  callback_url: "http://127.0.0.1:9/internal/regions/eu-west/events",
  submitted_at: new Date().toISOString(),
  ...over,
});

async function post(body: string, opts: { now?: number; sign?: string } = {}) {
  const headers = await signRequest(
    testKey(SECRET),
    { method: "POST", path: REGION_PATHS.jobs, body: opts.sign ?? body },
    opts.now,
  );
  return app.request(REGION_PATHS.jobs, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body,
  });
}

async function get(path: string, headers: Record<string, string> = {}, method = "GET") {
  const signed = await signRequest(testKey(SECRET), { method, path, body: "" });
  return app.request(path, { method, headers: { ...signed, ...headers } });
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = ErrorBody.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.request_id).toBe(res.headers.get("x-request-id"));
  return body;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "region-app-"));
  await mkdir(join(dir, "models", "cppn-glove", "v1"), { recursive: true });
  await writeFile(
    join(dir, "models", "cppn-glove", "v1", "manifest.json"),
    JSON.stringify(manifest),
  );
  store = new FsObjectStore(join(dir, "objects"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function build(lc: NodeLifecycle): void {
  lifecycle = lc;
  queue = new JobQueue(new InProcessQueueBackend({ agingMs: 10_000 }), { maxDepth: 3 });
  const models = new LocalModelStore(join(dir, "models"));
  const intake = new JobIntake({
    region: "eu-west",
    queue,
    models: {
      manifestOf: async (name, version) => (await models.find(name, version))?.manifest ?? null,
    },
    meter: new ThroughputMeter(),
    lifecycle,
    inFlight: () => 0,
    holder: "node-1",
  });
  app = createRegionApp({
    region: "eu-west",
    nodeId: "node-1",
    keys: { current: testKey(SECRET) },
    intake,
    store,
    lifecycle,
    logger: createLogger({ level: "silent" }),
    status: () => ({ warmModels: ["cppn-glove@v1"], executionProvider: "cpu" }),
  });
}

beforeEach(() => {
  const ready = new NodeLifecycle();
  ready.markReady();
  build(ready);
});

describe("POST /v1/jobs", () => {
  it("accepts a signed job with its queue position and a wait estimate", async () => {
    const first = await post(JSON.stringify(job()));
    expect(first.status).toBe(202);
    expect(JobAccepted.parse(await first.json())).toMatchObject({
      region: "eu-west",
      queue_position: 0,
      estimated_wait_ms: 0,
      // This node's own queue holds it: the edge's lease follows this node's heartbeats.
      holder: "node-1",
    });
    const second = JobAccepted.parse(await (await post(JSON.stringify(job()))).json());
    // One job ahead, priced from the manifest until something ran: 400 ms/MP x 64x64.
    expect(second).toMatchObject({ queue_position: 1, estimated_wait_ms: 2 });
    const fast = JobAccepted.parse(
      await (await post(JSON.stringify(job({ priority: "fast" })))).json(),
    );
    expect(fast.queue_position).toBe(0);
  });

  it("refuses unsigned, tampered and stale requests with 401", async () => {
    const body = JSON.stringify(job());
    const unsigned = await app.request(REGION_PATHS.jobs, { method: "POST", body });
    const e = await expectError(unsigned, 401, "signature_missing");
    expect(e.error.type).toBe("authentication_error");
    await expectError(
      await post(body.replace("teal", "gold"), { sign: body }),
      401,
      "signature_mismatch",
    );
    await expectError(await post(body, { now: Date.now() - 600_000 }), 401, "signature_stale");
    expect(await queue.depth()).toEqual({ fast: 0, standard: 0, relax: 0 });
  });

  it("answers 400 for malformed JSON and bodies that are not a RegionJob", async () => {
    await expectError(await post("{not json"), 400, "invalid_json");
    const missing = await expectError(
      await post(JSON.stringify({ ...job(), seed: -1 })),
      400,
      "invalid_job",
    );
    expect(missing.error.param).toBe("seed");
    const extra = await expectError(
      await post(JSON.stringify({ ...job(), x: 1 })),
      400,
      "invalid_job",
    );
    expect(extra.error.type).toBe("invalid_request_error");
  });

  it("answers 413 for oversized bodies before verifying anything", async () => {
    const res = await post(JSON.stringify(job({ prompt: "x".repeat(70_000) })));
    await expectError(res, 413, "body_too_large");
  });

  it("answers 404 for a model version this region lacks and 400 for sizes the model refuses", async () => {
    const unknown = await post(JSON.stringify(job({ model_version: "v9" })));
    const body = await expectError(unknown, 404, "model_version_not_found");
    expect(body.error.type).toBe("not_found_error");
    const traversal = await post(JSON.stringify(job({ model: "..", model_version: ".." })));
    await expectError(traversal, 404, "model_version_not_found");
    const big = await expectError(
      await post(JSON.stringify(job({ height: 2048 }))),
      400,
      "size_not_supported",
    );
    expect(big.error.param).toBe("height");
  });

  it("is idempotent on job_id while the job is queued", async () => {
    const body = JSON.stringify(job());
    const a = await post(body);
    await post(JSON.stringify(job()));
    const b = await post(body);
    expect(b.status).toBe(202);
    expect(await b.json()).toEqual(await a.json());
    expect((await queue.depth()).standard).toBe(2);
  });

  it("pushes back with 429 and Retry-After when the queue is full", async () => {
    for (let i = 0; i < 3; i++) expect((await post(JSON.stringify(job()))).status).toBe(202);
    const full = await post(JSON.stringify(job()));
    await expectError(full, 429, "queue_full");
    expect(Number(full.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("answers 503 with Retry-After while starting or draining", async () => {
    lifecycle.beginDrain();
    const draining = await post(JSON.stringify(job()));
    await expectError(draining, 503, "region_draining");
    expect(draining.headers.get("retry-after")).toBe("30");
    await expectError(await app.request("/readyz"), 503, "region_draining");

    build(new NodeLifecycle());
    const starting = await post(JSON.stringify(job()));
    await expectError(starting, 503, "region_not_ready");
    expect(starting.headers.get("retry-after")).toBe("5");
    await expectError(await app.request("/readyz"), 503, "region_not_ready");
    expect((await app.request("/healthz")).status).toBe(200);
  });
});

describe("POST /v1/jobs/:id/cancel", () => {
  const cancel = async (jobId: string, body = "") => {
    const path = REGION_PATHS.jobCancel(jobId);
    const headers = await signRequest(testKey(SECRET), { method: "POST", path, body });
    return app.request(path, { method: "POST", headers, ...(body && { body }) });
  };

  it("takes why the edge drops the job (a lease expired), and refuses a body it cannot read", async () => {
    const a = job();
    await post(JSON.stringify(a));
    const res = await cancel(a.job_id, JSON.stringify({ reason: "lease_expired" }));
    expect(res.status).toBe(200);
    expect(JobCancelAnswer.parse(await res.json()).state).toBe("canceled");
    await expectError(await cancel(a.job_id, '{"reason":"bored"}'), 400, "invalid_cancel");
  });
  const answerOf = async (res: Response) => {
    expect(res.status).toBe(200);
    return JobCancelAnswer.parse(await res.json());
  };

  it("removes a queued job so it is never taken, and says so again when asked again", async () => {
    const [a, b] = [job(), job()];
    for (const j of [a, b]) expect((await post(JSON.stringify(j))).status).toBe(202);
    expect(await answerOf(await cancel(a.job_id))).toEqual({ job_id: a.job_id, state: "canceled" });
    expect(await answerOf(await cancel(a.job_id))).toEqual({ job_id: a.job_id, state: "canceled" });
    expect((await queue.take(3)).map((e) => e.job.job_id)).toEqual([b.job_id]);
    // The canceled job sent again is not queued again.
    expect((await post(JSON.stringify(a))).status).toBe(202);
    expect(await queue.depth()).toEqual({ fast: 0, standard: 0, relax: 0 });
  });

  it("answers `running` for a job already taken, marking its output for discarding", async () => {
    const a = job();
    await post(JSON.stringify(a));
    await queue.take(1);
    expect((await answerOf(await cancel(a.job_id))).state).toBe("running");
    expect(queue.discards(a.job_id)).toBe(true);
    await queue.finish([a.job_id]);
    expect((await answerOf(await cancel(a.job_id))).state).toBe("running");
  });

  it("answers `finished` for a job that ended here, 404 for one it never had", async () => {
    const a = job();
    await post(JSON.stringify(a));
    await queue.take(1);
    await queue.finish([a.job_id]);
    expect((await answerOf(await cancel(a.job_id))).state).toBe("finished");
    expect(queue.discards(a.job_id)).toBe(false);
    const unknown = await expectError(await cancel("gen_unknown"), 404, "job_not_found");
    expect(unknown.error.type).toBe("not_found_error");
  });

  it("is served while draining: a queued job is dropped rather than handed back", async () => {
    const a = job();
    await post(JSON.stringify(a));
    lifecycle.beginDrain();
    expect((await answerOf(await cancel(a.job_id))).state).toBe("canceled");
  });

  it("refuses unsigned and replayed cancels with 401, changing nothing", async () => {
    const a = job();
    await post(JSON.stringify(a));
    const path = REGION_PATHS.jobCancel(a.job_id);
    await expectError(await app.request(path, { method: "POST" }), 401, "signature_missing");
    // A signature for another job's cancel does not cancel this one.
    const other = await signRequest(testKey(SECRET), {
      method: "POST",
      path: REGION_PATHS.jobCancel("gen_other"),
      body: "",
    });
    const forged = await app.request(path, { method: "POST", headers: other });
    await expectError(forged, 401, "signature_mismatch");
    expect((await queue.depth()).standard).toBe(1);

    const headers = await signRequest(testKey(SECRET), { method: "POST", path, body: "" });
    expect((await app.request(path, { method: "POST", headers })).status).toBe(200);
    const replayed = await app.request(path, { method: "POST", headers });
    await expectError(replayed, 401, "signature_replayed");
  });
});

describe("GET /v1/objects/:key", () => {
  const key = `${"c".repeat(64)}.png`;
  const bytes = new TextEncoder().encode("0123456789");

  beforeAll(async () => {
    await store.put(key, bytes, { contentType: "image/png", metadata: { width: "64" } });
  });

  it("serves bytes with content type, etag and metadata", async () => {
    const res = await get(REGION_PATHS.object(key));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{32}"$/);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("x-genart-meta-width")).toBe("64");
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect(new TextDecoder().decode(await res.arrayBuffer())).toBe("0123456789");
  });

  it("honours Range, If-None-Match and HEAD", async () => {
    const part = await get(REGION_PATHS.object(key), { range: "bytes=2-4" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-4/10");
    expect(new TextDecoder().decode(await part.arrayBuffer())).toBe("234");
    const past = await get(REGION_PATHS.object(key), { range: "bytes=10-" });
    await expectError(past, 416, "range_not_satisfiable");
    expect(past.headers.get("content-range")).toBe("bytes */10");
    const etag = (await get(REGION_PATHS.object(key))).headers.get("etag")!;
    const cached = await get(REGION_PATHS.object(key), { "if-none-match": etag });
    expect(cached.status).toBe(304);
    const head = await get(REGION_PATHS.object(key), {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("10");
  });

  it("refuses unsigned reads, unknown keys and unsafe keys", async () => {
    await expectError(await app.request(REGION_PATHS.object(key)), 401, "signature_missing");
    await expectError(
      await get(REGION_PATHS.object(`${"d".repeat(64)}.png`)),
      404,
      "object_not_found",
    );
    await expectError(await get(REGION_PATHS.object("../secrets.json")), 400, "invalid_object_key");
  });
});

describe("DELETE /v1/objects/:key", () => {
  it("deletes a removed output's bytes, idempotently, only when signed", async () => {
    const key = `${"e".repeat(64)}.png`;
    await store.put(key, new Uint8Array([1, 2, 3]), { contentType: "image/png" });
    await expectError(
      await app.request(REGION_PATHS.object(key), { method: "DELETE" }),
      401,
      "signature_missing",
    );
    expect(await store.head(key)).not.toBeNull();
    const res = await get(REGION_PATHS.object(key), {}, "DELETE");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ key, deleted: true });
    expect(await store.head(key)).toBeNull();
    expect((await get(REGION_PATHS.object(key), {}, "DELETE")).status).toBe(200);
    await expectError(
      await get(REGION_PATHS.object("../secrets.json"), {}, "DELETE"),
      400,
      "invalid_object_key",
    );
  });
});

describe("probes", () => {
  it("healthz answers while readyz follows the lifecycle, telling nothing else", async () => {
    const health = await app.request("/healthz");
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    expect((await app.request("/nope")).status).toBe(404);
  });

  it("serves no metrics or status on the public port: those are on the ops app only", async () => {
    expect((await app.request("/metrics")).status).toBe(404);
    expect((await app.request("/status")).status).toBe(404);
    const ops = createRegionOpsApp({
      region: "eu-west",
      nodeId: "n1",
      lifecycle,
      logger: createLogger({ level: "silent" }),
      status: () => ({ warmModels: ["cppn-glove@v1"], executionProvider: "cpu" }),
      metrics: {
        render: async () => ({ contentType: "text/plain", body: "genart_up 1\n" }),
        intakeAnswered: () => {},
        jobCanceled: () => {},
      },
    });
    expect(await (await ops.request("/metrics")).text()).toBe("genart_up 1\n");
    expect(await (await ops.request("/status")).json()).toMatchObject({
      status: "ready",
      warm_models: ["cppn-glove@v1"],
      execution_provider: "cpu",
    });
  });
});
