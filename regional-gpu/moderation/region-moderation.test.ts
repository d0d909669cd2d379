import { testKey } from "../testing/signed-client.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../contracts/ids.ts";
import {
  outputKey,
  QUARANTINE_PREFIX,
  REGION_PATHS,
  type JobEvent,
  type RegionJob,
} from "../../contracts/region-protocol.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { createLogger } from "../log.ts";
import { startRegion, type RunningRegion } from "../region.ts";
import { TEST_CLASSIFIERS_DIR } from "../testing/classifiers.ts";
import { startEdgeStub, type EdgeStub } from "../testing/edge-stub.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { signedFetch } from "../testing/signed-client.ts";
import { OutputModerator } from "./output-moderator.ts";
import type { SafetyClassifier } from "./safety-classifier.ts";
import { acquireModerator, startModerator, type StartedModerator } from "./shared-moderator.ts";

// A whole regional node with output moderation wired in: the real classifier and the reference model
// on ONNX Runtime, the on-disk object store, a stub edge receiving the signed events.

const SECRET = "region-moderation-test-secret";
const REGION = "eu-west";
// The screen alone: the confirming classifier is covered by output-gate.test.ts.
const MODERATION = {
  moderationModel: "MobileNetV2Mid",
  moderationConfirmModel: "none",
  moderationModelDir: TEST_CLASSIFIERS_DIR,
} as const;

let model: TestModel;
let moderation: StartedModerator;
let edge: EdgeStub;
let dir: string;
const running: RunningRegion[] = [];

beforeAll(async () => {
  model = await referenceModel();
  moderation = await startModerator({
    ...shared(),
    logger: createLogger({ level: "silent" }),
  });
  dir = await mkdtemp(join(tmpdir(), "region-moderation-"));
  edge = await startEdgeStub(SECRET);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await moderation?.close();
  await edge?.close();
  await rm(dir, { recursive: true, force: true });
});

async function boot(overrides: Parameters<typeof startRegion>[1] = {}, batching = {}) {
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
      logLevel: "silent",
      ...MODERATION,
      ...batching,
    },
    overrides,
  );
  running.push(region);
  return { region, store: new FsObjectStore(objects) };
}

const job = (over: Partial<RegionJob> = {}): RegionJob => ({
  job_id: newId("generation"),
  request_id: newId("request"),
  account_id: "acct_test",
  project_id: null,
  model: model.manifest.name,
  model_version: model.manifest.version,
  prompt: "a quiet harbour at dawn, teal and amber",
  negative_prompt: null,
  width: 64,
  height: 64,
  seed: 42,
  priority: "standard",
  callback_url: `${edge.url}${REGION_PATHS.events(REGION)}`,
  submitted_at: new Date().toISOString(),
  ...over,
});

const submit = (region: RunningRegion, j: RegionJob) =>
  signedFetch(region.url, SECRET, REGION_PATHS.jobs, { body: JSON.stringify(j) });
const terminal = (jobId: string) =>
  edge.events().find((e) => e.job_id === jobId && e.type !== "running");
const typed = <T extends JobEvent["type"]>(e: JobEvent, type: T) => {
  if (e.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(e)}`);
  return e as Extract<JobEvent, { type: T }>;
};

describe("regional node: output moderation", () => {
  it("checks every output: a passing one is published, its check timed", async () => {
    const { region, store } = await boot();
    const j = job();
    expect((await submit(region, j)).status).toBe(202);
    const done = typed(await edge.waitFor(() => terminal(j.job_id)), "succeeded");
    expect(done.timings.moderation_ms).toBeGreaterThan(0);
    expect(done.moderation_flag).toBeUndefined();
    expect(await store.head(done.output.key)).not.toBeNull();
  });

  it("ends a blocked output with a `blocked` event, stored only in quarantine", async () => {
    const { region, store } = await boot();
    const j = job({
      seed: 7,
      moderation: { strictness: "strict", thresholds: { porn: 0.001, hentai: 0.001, sexy: 0.001 } },
    });
    expect((await submit(region, j)).status).toBe(202);
    const blocked = typed(await edge.waitFor(() => terminal(j.job_id)), "blocked");
    expect(
      edge
        .events()
        .filter((e) => e.job_id === j.job_id)
        .map((e) => e.type),
    ).toEqual(["running", "blocked"]);
    expect(blocked.categories.length).toBeGreaterThan(0);
    for (const c of blocked.categories) expect(blocked.scores[c]).toBeGreaterThanOrEqual(0.001);
    expect(blocked.thresholds).toEqual({ porn: 0.001, hentai: 0.001, sexy: 0.001 });
    expect(blocked.classifier).toMatch(/^nsfwjs\/MobileNetV2Mid@\d+\.\d+\.\d+\+onnx$/);
    expect(blocked.gpu_ms).toBeGreaterThan(0);
    expect(blocked.timings.moderation_ms).toBeGreaterThan(0);

    expect(blocked.quarantine_key.startsWith(QUARANTINE_PREFIX)).toBe(true);
    const kept = await store.head(blocked.quarantine_key);
    expect(kept?.metadata.job_id).toBe(j.job_id);
    const publicKey = outputKey(kept!.metadata.sha256!, "png");
    expect(await store.head(publicKey)).toBeNull();
    const served = await signedFetch(region.url, SECRET, REGION_PATHS.object(publicKey));
    expect(served.status).toBe(404);

    // A block is a verdict on the content, not a node failure.
    const beat = await edge.waitFor(() => {
      const last = edge.heartbeats().at(-1);
      return last && Date.parse(last.at) > Date.parse(blocked.at) && last;
    });
    expect(beat.failure_rate).toBe(0);
  });

  it("moderates a generation batch as one classifier run", async () => {
    const batches: number[] = [];
    const screen = moderation.screen;
    const recording: SafetyClassifier = {
      id: screen.id,
      side: screen.side,
      classify: (images) => {
        batches.push(images.length);
        return screen.classify(images);
      },
    };
    const { region } = await boot(
      { moderator: new OutputModerator({ screen: recording }) },
      { maxBatch: 4, maxBatchDelayMs: 2_000 },
    );
    const jobs = [1, 2, 3, 4].map((seed) => job({ seed }));
    await Promise.all(jobs.map((j) => submit(region, j)));
    const done = await Promise.all(
      jobs.map(async (j) => typed(await edge.waitFor(() => terminal(j.job_id)), "succeeded")),
    );
    expect(done.map((d) => d.timings.batch_size)).toEqual([4, 4, 4, 4]);
    expect(batches).toEqual([4]);
  });

  it("shares one set of classifiers between the nodes of a process", async () => {
    await boot();
    const started = performance.now();
    const lease = await acquireModerator({
      ...shared(),
      logger: createLogger({ level: "silent" }),
    });
    const again = await acquireModerator({
      ...shared(),
      logger: createLogger({ level: "silent" }),
    });
    try {
      expect(again.moderator).toBe(lease.moderator);
      // Already loaded by the node: nothing is started.
      expect(performance.now() - started).toBeLessThan(100);
    } finally {
      lease.release();
      again.release();
    }
  });
});

const shared = () => ({
  screenModel: MODERATION.moderationModel,
  confirmModel: null,
  executionProvider: "cpu" as const,
  dir: MODERATION.moderationModelDir,
});
