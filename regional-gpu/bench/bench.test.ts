import { testKey } from "../testing/signed-client.ts";
import { join } from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { InferenceSession } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PIPELINE_FACTORIES } from "../models/pipeline-factories.ts";
import { OutputModerator } from "../moderation/output-moderator.ts";
import type { Pipeline } from "../pipelines/pipeline.ts";
import { startRegion, type RunningRegion } from "../region.ts";
import { passEverything } from "../testing/classifiers.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { startCallbackReceiver, type CallbackReceiver } from "./callback-receiver.ts";
import { pairedOverhead } from "./paired-overhead.ts";
import { rawLoop } from "./raw-loop.ts";
import { report, type BenchInput } from "./report.ts";
import { servedLoad } from "./served-load.ts";
import { summarise } from "./stats.ts";

// The benchmark's parts at toy scale against a real node (64 x 64, fractions of a second), so
// `npm run bench:region` cannot rot unnoticed; and its verdicts on known figures.

const SECRET = "bench-test-signing-secret";
const REGION = "bench";

let model: TestModel;
let scratch: string;
let receiver: CallbackReceiver;
let region: RunningRegion;
let session: InferenceSession;
let pipeline: Pipeline;

beforeAll(async () => {
  model = await referenceModel();
  scratch = await mkdtemp(join(tmpdir(), "bench-test-"));
  receiver = await startCallbackReceiver();
  const dir = join(model.modelsDir, model.manifest.name, model.manifest.version);
  session = await InferenceSession.create(join(dir, model.manifest.file), {
    executionProviders: ["cpu"],
  });
  pipeline = await PIPELINE_FACTORIES[model.manifest.pipeline]({
    manifest: model.manifest,
    dir,
    session,
  });
  const pass = passEverything();
  region = await startRegion(
    {
      regionName: REGION,
      port: 0,
      signingKey: testKey(SECRET),
      modelDir: model.modelsDir,
      warmModels: [model.ref],
      objectStore: { kind: "file", dir: join(scratch, "objects") },
      executionProvider: "cpu",
      maxBatch: 4,
      maxBatchDelayMs: 5,
      logLevel: "silent",
    },
    { moderator: new OutputModerator({ screen: pass }) },
  );
});
afterAll(async () => {
  await region?.close();
  await receiver.close();
  await session.release();
  await rm(scratch, { recursive: true, force: true });
});

const common = () => ({
  regionUrl: region.url,
  region: REGION,
  secret: SECRET,
  receiver,
  model: { name: model.manifest.name, version: model.manifest.version },
  side: 64,
  prompt: "a quiet harbour",
});

describe("bench:region parts", () => {
  it("measures the raw loop, the served path under load, and paired overhead", async () => {
    const raw = await rawLoop(pipeline, { side: 64, batch: 2, durationMs: 200, prompt: "x" });
    expect(raw.images).toBe(raw.iterationMs.count * 2);
    expect(raw.imagesPerS).toBeGreaterThan(0);

    const served = await servedLoad({ ...common(), clients: 3, warmupMs: 200, durationMs: 2_000 });
    expect(served.failures).toBe(0);
    expect(served.images).toBeGreaterThan(0);
    expect(served.latencyMs.count).toBeGreaterThan(0);
    expect(served.latencyMs.p50).toBeGreaterThan(0);
    expect(served.batchSize.max).toBeLessThanOrEqual(4);
    expect(served.stagesMs.moderation?.count).toBe(served.latencyMs.count);

    const paired = await pairedOverhead({ ...common(), pipeline, durationMs: 300 });
    expect(paired.pairs).toBeGreaterThan(0);
    expect(paired.overheadMs.count).toBe(paired.pairs);
    // Per pair, the served latency includes the store write it is compared without.
    expect(paired.servedMs.max).toBeGreaterThanOrEqual(paired.storeMs.max);
  });
});

describe("report", () => {
  const s = (p50: number) => summarise([p50]);
  const rawRun = (batch: number, imagesPerS: number) => ({
    batch,
    images: imagesPerS,
    seconds: 1,
    imagesPerS,
    iterationMs: s(1000 / imagesPerS),
    runMs: s(900 / imagesPerS),
    cpuMsPerImage: 1800 / imagesPerS,
  });
  const servedRun = (imagesPerS: number) => ({
    clients: 8,
    images: imagesPerS * 8,
    seconds: 8,
    imagesPerS,
    latencyMs: s(400),
    stagesMs: { queue: s(300), inference: s(40), encode: s(5), upload: s(3), moderation: null },
    batchSize: s(1),
    failures: 0,
    cpuMsPerImage: 100,
  });
  const input = (
    servedRate: number,
    overhead: number,
    diskMs: number,
    moderatedRate: number | null = null,
  ): BenchInput => ({
    machine: { cpus: 2, execution_provider: "cpu" },
    started_at: "2026-11-27T00:00:00.000Z",
    command: "npm run bench:region",
    side: 256,
    clients: 8,
    raw: {
      batch1: rawRun(1, 20),
      batch1Runs: [rawRun(1, 20)],
      batches: [rawRun(2, 22), rawRun(8, 30)],
      noSpinning: rawRun(1, 40),
    },
    batchingOn: { maxBatch: 8, maxBatchDelayMs: 10 },
    defaults: { maxBatch: 8, maxBatchDelayMs: 10 },
    served: {
      off: servedRun(servedRate),
      on: servedRun(24),
      moderated: moderatedRate === null ? null : servedRun(moderatedRate),
    },
    baselines: {
      off: rawRun(1, 20),
      on: rawRun(1, 20),
      moderated: moderatedRate === null ? null : rawRun(1, 20),
    },
    paired: {
      pairs: 10,
      rawMs: s(50),
      servedMs: s(50 + overhead),
      overheadMs: s(overhead),
      overheadWithoutStoreMs: s(overhead - 1),
      storeMs: s(1),
      overheadCpuMs: s(2),
      rawCpuMs: s(90),
    },
    loads: {
      model: "m@1",
      store: "http://127.0.0.1:1/",
      execution_provider: "cpu",
      trials: 1,
      store_ms: [800],
      disk_ms: [diskMs],
      hot_ms: [0.01],
      median_ms: { store: 800, disk: diskMs, hot: 0.01 },
      median_cpu_ms: { store: 700, disk: diskMs - 10 },
      footprint_bytes: 1,
    },
  });

  it("judges each target against the raw baseline of the same run", () => {
    const met = report(input(19, 4, 250, 17)).json as {
      targets: Record<string, { met: boolean }>;
    };
    expect(Object.values(met.targets).every((t) => t.met)).toBe(true);
    expect(met.targets.served_with_moderation_over_raw).toBeDefined();
    const missed = report(input(17, 6, 350, 15)).json as typeof met & {
      ratios: Record<string, unknown>;
    };
    expect(missed.targets.served_over_raw!.met).toBe(false);
    expect(missed.targets.served_with_moderation_over_raw!.met).toBe(false);
    expect(missed.targets.p50_overhead_ms!.met).toBe(false);
    expect(missed.targets.disk_load_ms!.met).toBe(false);
    expect(missed.targets.store_load_ms!.met).toBe(true);
    expect(missed.ratios).toMatchObject({
      served_over_raw_at_saturation: 0.85,
      served_over_raw_cpu_per_image: 0.9,
      served_batching_on_over_raw_same_batch: 0.8,
      raw_batch_over_batch1: { batch2: 1.1, batch8: 1.5 },
      raw_batch_cpu_efficiency: { batch2: 1.1, batch8: 1.5 },
      raw_without_spinning_over_raw: 2,
      served_with_moderation_over_raw: 0.75,
      served_with_moderation_over_without: 0.63,
    });
    // Each served run is judged against the raw runs just around it, not the whole run's mean.
    const drifted = input(19, 4, 250, 17);
    drifted.baselines.off = rawRun(1, 38);
    const judged = report(drifted).json as typeof missed;
    expect(judged.ratios.served_over_raw_at_saturation).toBe(0.5);
    expect(judged.targets.served_over_raw!.met).toBe(false);
    // Without a moderated run there is no moderation verdict to give.
    const skipped = report(input(19, 4, 250)).json as typeof met;
    expect(skipped.targets.served_with_moderation_over_raw).toBeUndefined();
  });
});
