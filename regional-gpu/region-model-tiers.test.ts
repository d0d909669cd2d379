import { testKey } from "./testing/signed-client.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../contracts/ids.ts";
import { REGION_PATHS, WarmModelAnswer, type RegionJob } from "../contracts/region-protocol.ts";
import type { RegionNodeConfigInput } from "./config.ts";
import { startRegion, type RunningRegion } from "./region.ts";
import { startEdgeStub, type EdgeStub } from "./testing/edge-stub.ts";
import { startModelHttpServer, type ModelHttpServer } from "./testing/model-http-server.ts";
import { writeModelVersion } from "./testing/model-versions.ts";
import { referenceModel, type TestModel } from "./testing/reference-model.ts";
import { signedFetch } from "./testing/signed-client.ts";

// A regional node whose models come from a remote store (a real HTTP server on loopback) through its
// disk cache: warm-ahead requests, versions side by side, and the store going away.

const SECRET = "region-test-signing-secret";
const REGION = "eu-west";
const NAME = "cppn-glove";

let model: TestModel;
let dir: string;
let published: string;
let edge: EdgeStub;
let store: ModelHttpServer;
const running: RunningRegion[] = [];

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "region-tiers-"));
  published = join(dir, "published");
  for (const v of ["v1", "v2", "v3"]) await writeModelVersion(model, published, v);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
  await edge?.close();
  await store?.close();
});

async function boot(over: Partial<RegionNodeConfigInput> = {}) {
  edge = await startEdgeStub(SECRET);
  store = await startModelHttpServer(published);
  const region = await startRegion({
    regionName: REGION,
    port: 0,
    signingKey: testKey(SECRET),
    edgeUrl: edge.url,
    modelDir: join(dir, "unused-model-dir"),
    modelStore: { kind: "http", url: store.url },
    modelCacheDir: await mkdtemp(join(dir, "cache-")),
    modelStoreTimeoutMs: 1_000,
    warmModels: [`${NAME}@v1`],
    objectStore: { kind: "file", dir: join(dir, newId("request")) },
    executionProvider: "cpu",
    heartbeatIntervalMs: 100,
    eventRetryBaseMs: 10,
    logLevel: (process.env.TEST_LOG_LEVEL ?? "silent") as "silent",
    ...over,
  });
  running.push(region);
  return region;
}

function job(version: string): RegionJob {
  return {
    job_id: newId("generation"),
    request_id: newId("request"),
    account_id: "acct_test",
    project_id: null,
    model: NAME,
    model_version: version,
    prompt: "a quiet harbour at dawn, teal and amber",
    negative_prompt: null,
    width: 64,
    height: 64,
    seed: 42,
    priority: "standard",
    callback_url: `${edge.url}${REGION_PATHS.events(REGION)}`,
    submitted_at: new Date().toISOString(),
  };
}

const submit = (region: RunningRegion, j: RegionJob) =>
  signedFetch(region.url, SECRET, REGION_PATHS.jobs, { body: JSON.stringify(j) });
const warm = (region: RunningRegion, body: unknown) =>
  signedFetch(region.url, SECRET, REGION_PATHS.modelsWarm, { body: JSON.stringify(body) });
const terminal = (jobId: string) =>
  edge.events().find((e) => e.job_id === jobId && e.type !== "running");
const warmModels = async (region: RunningRegion) =>
  ((await (await fetch(`${region.opsUrl}/status`)).json()) as { warm_models: string[] })
    .warm_models;

async function until(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("regional node with a remote model store", () => {
  it("warms a model ahead of traffic and serves two versions side by side", async () => {
    const region = await boot();
    expect(await warmModels(region)).toEqual([`${NAME}@v1`]);

    const asked = await warm(region, { model: NAME, version: "v2" });
    expect(asked.status).toBe(202);
    expect(WarmModelAnswer.parse(await asked.json())).toEqual({
      model: NAME,
      version: "v2",
      state: "loading",
    });
    await until(async () => (await warmModels(region)).includes(`${NAME}@v2`));
    await edge.waitFor(() => edge.heartbeats().at(-1)?.warm_models.includes(`${NAME}@v2`));
    const again = await warm(region, { model: NAME, version: "v2" });
    expect([again.status, (await again.json()).state]).toEqual([200, "hot"]);

    const jobs = [job("v1"), job("v2")];
    for (const j of jobs) expect((await submit(region, j)).status).toBe(202);
    const done = await edge.waitFor(() => {
      const all = jobs.map((j) => terminal(j.job_id));
      return all.every(Boolean) && all;
    });
    expect(done.map((e) => e?.type)).toEqual(["succeeded", "succeeded"]);
    // Each file was fetched from the store once.
    expect(store.requests.filter((r) => r.endsWith("model.onnx")).sort()).toEqual([
      `${NAME}/v1/model.onnx`,
      `${NAME}/v2/model.onnx`,
    ]);

    const unknown = await warm(region, { model: NAME, version: "v9" });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("model_version_not_found");
    expect((await warm(region, { model: NAME })).status).toBe(400);
    const unsigned = await fetch(`${region.url}${REGION_PATHS.modelsWarm}`, {
      method: "POST",
      body: JSON.stringify({ model: NAME, version: "v3" }),
    });
    expect(unsigned.status).toBe(401);
  });

  it("keeps serving hot and disk models when the store goes away; cold ones fail fast and clearly", async () => {
    const region = await boot();
    // v2 onto disk (hot too), v3's manifest only (known, never fetched).
    expect((await warm(region, { model: NAME, version: "v2" })).status).toBe(202);
    await until(async () => (await warmModels(region)).includes(`${NAME}@v2`));
    const known = await submit(region, { ...job("v3"), width: 4096 });
    expect(known.status).toBe(400); // looked up (manifest cached), refused for its size
    await store.close();

    const hot = job("v1");
    const alsoHot = job("v2");
    const cold = job("v3");
    const started = Date.now();
    for (const j of [hot, alsoHot, cold]) expect((await submit(region, j)).status).toBe(202);
    await edge.waitFor(() => [hot, alsoHot, cold].every((j) => terminal(j.job_id)));
    expect(terminal(hot.job_id)?.type).toBe("succeeded");
    expect(terminal(alsoHot.job_id)?.type).toBe("succeeded");
    expect(terminal(cold.job_id)).toMatchObject({
      type: "failed",
      error: { code: "model_store_unreachable" },
    });
    expect(Date.now() - started).toBeLessThan(5_000);

    // A version this node has never seen: refused at intake, so the edge tries another region.
    const unseen = await submit(region, job("v4"));
    expect(unseen.status).toBe(503);
    expect(unseen.headers.get("retry-after")).toBe("5");
    expect((await unseen.json()).error).toMatchObject({
      type: "overloaded_error",
      code: "model_store_unreachable",
    });
    // And the hot model goes on serving.
    const after = job("v1");
    await submit(region, after);
    expect((await edge.waitFor(() => terminal(after.job_id)))?.type).toBe("succeeded");
  });

  it("serves from the disk tier across a restart with the store down", async () => {
    const cacheDir = await mkdtemp(join(dir, "restart-"));
    const first = await boot({ modelCacheDir: cacheDir });
    const gone = store.url;
    await first.close();
    await edge.close();
    await store.close();

    // The store is down for good; v1 is on disk from the first run.
    const second = await boot({ modelCacheDir: cacheDir, modelStore: { kind: "http", url: gone } });
    expect(await warmModels(second)).toEqual([`${NAME}@v1`]);
    const j = job("v1");
    await submit(second, j);
    expect((await edge.waitFor(() => terminal(j.job_id)))?.type).toBe("succeeded");
  });
});
