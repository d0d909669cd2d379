import { testKey } from "../testing/signed-client.ts";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { InferenceSession } from "onnxruntime-node";
import { ExecutionProviderChoice } from "../config.ts";
import { createLogger } from "../log.ts";
import { measureColdLoads } from "../models/measure-cold-loads.ts";
import { PIPELINE_FACTORIES } from "../models/pipeline-factories.ts";
import { OrtSessionFactory } from "../models/session-factory.ts";
import { OutputModerator } from "../moderation/output-moderator.ts";
import { startRegion } from "../region.ts";
import { BATCH_DEFAULTS } from "../scheduler/batch-policy.ts";
import { passEverything } from "../testing/classifiers.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { startCallbackReceiver } from "./callback-receiver.ts";
import { pairedOverhead, type PairedOverheadResult } from "./paired-overhead.ts";
import { rawLoop, type RawLoopResult } from "./raw-loop.ts";
import { report } from "./report.ts";
import { servedLoad } from "./served-load.ts";

// `npm run bench:region`: the regional node against raw ONNX Runtime, in one run on this machine.
//   raw:    tight loop of pipeline run + PNG encode (batch 1, 2, 4, 8), bracketing the served runs
//   served: signed HTTP intake -> queue -> batch -> executor thread -> encode -> store -> events,
//           N closed-loop clients, callbacks to a local receiver; moderation off (a pass-all
//           classifier), then on (the real ONNX classifiers, batching on)
//   loads:  cold-load times by tier through the node's model pool (models/measure-cold-loads.ts)
// Figures go to stdout and to bench-results/region.json. --quick: a seconds-long smoke run;
// --no-moderation skips the moderated run; --side, --clients change the shape and concurrency.

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string", default: "bench-results/region.json" },
    side: { type: "string" },
    clients: { type: "string" },
    moderation: { type: "boolean", default: true },
  },
});

const quick = args.quick;
const SIDE = Number(args.side ?? (quick ? 64 : 256));
const CLIENTS = Number(args.clients ?? (quick ? 2 : 8));
const PROMPT = "a quiet harbour at dawn, teal and amber";
const ms = (full: number, smoke: number) => (quick ? smoke : full);
const SECRET = "bench-region-signing-secret";
/** ORT_EP as for the node: cpu (default here), cuda, auto. */
const EP = ExecutionProviderChoice.parse(process.env.ORT_EP ?? "cpu");
const REGION = "bench";

async function rawPipeline(model: TestModel) {
  const dir = join(model.modelsDir, model.manifest.name, model.manifest.version);
  const sessions = new OrtSessionFactory({ choice: EP, logger: createLogger({ level: "warn" }) });
  const { session, executionProvider } = await sessions.create(join(dir, model.manifest.file));
  const pipeline = await PIPELINE_FACTORIES[model.manifest.pipeline]({
    manifest: model.manifest,
    dir,
    session,
  });
  return { pipeline, executionProvider, release: () => session.release() };
}

/**
 * The raw loop again on a CPU session whose intra-op threads do not spin-wait between runs: the
 * session option the node's sessions do not set yet (docs/benchmarks.md). Null on CUDA.
 */
async function rawWithoutSpinning(model: TestModel, side: number, durationMs: number) {
  const dir = join(model.modelsDir, model.manifest.name, model.manifest.version);
  const session = await InferenceSession.create(join(dir, model.manifest.file), {
    executionProviders: ["cpu"],
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
  try {
    const pipeline = await PIPELINE_FACTORIES[model.manifest.pipeline]({
      manifest: model.manifest,
      dir,
      session,
    });
    return await rawLoop(pipeline, { side, batch: 1, durationMs, prompt: PROMPT });
  } finally {
    await session.release();
  }
}

interface ServedRun {
  maxBatch: number;
  maxBatchDelayMs: number;
  moderation: boolean;
}

/** Starts a node for one scenario, runs `measure` against its URL, and drains it. */
async function withNode<T>(
  model: TestModel,
  scratch: string,
  run: ServedRun,
  measure: (url: string) => Promise<T>,
): Promise<T> {
  const region = await startRegion(
    {
      regionName: REGION,
      port: 0,
      signingKey: testKey(SECRET),
      modelDir: model.modelsDir,
      warmModels: [model.ref],
      objectStore: { kind: "file", dir: join(scratch, `objects-${Date.now()}`) },
      executionProvider: EP,
      maxBatch: run.maxBatch,
      maxBatchDelayMs: run.maxBatchDelayMs,
      maxQueueDepth: 1_000,
      logLevel: "warn",
    },
    run.moderation
      ? {}
      : {
          moderator: new OutputModerator({
            screen: passEverything("none (benchmark: moderation off)", SIDE),
          }),
        },
  );
  try {
    return await measure(region.url);
  } finally {
    await region.close();
  }
}

/** Raw runs taken together: their combined rate and CPU per image; latencies of the faster run. */
const meanRaw = (a: RawLoopResult, b: RawLoopResult): RawLoopResult => ({
  ...(a.imagesPerS >= b.imagesPerS ? a : b),
  images: a.images + b.images,
  seconds: a.seconds + b.seconds,
  imagesPerS: (a.images + b.images) / (a.seconds + b.seconds),
  cpuMsPerImage: (a.cpuMsPerImage * a.images + b.cpuMsPerImage * b.images) / (a.images + b.images),
});

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = loadavg();
  const model = await referenceModel();
  const scratch = await mkdtemp(join(tmpdir(), "bench-region-"));
  const receiver = await startCallbackReceiver();
  const raw = await rawPipeline(model);
  const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
  const modelId = { name: model.manifest.name, version: model.manifest.version };
  const rawRun = (batch: number, durationMs: number) =>
    rawLoop(raw.pipeline, { side: SIDE, batch, durationMs, prompt: PROMPT });
  const load =
    (clients: number, timing: { warmupMs: number; durationMs: number }) => (regionUrl: string) =>
      servedLoad({
        regionUrl,
        region: REGION,
        secret: SECRET,
        receiver,
        model: modelId,
        clients,
        side: SIDE,
        prompt: PROMPT,
        ...timing,
      });
  const saturated = { warmupMs: ms(1_000, 200), durationMs: ms(8_000, 700) };
  const batchingOff = { maxBatch: 1, maxBatchDelayMs: 0, moderation: false };
  try {
    // Each saturated served run sits between two raw batch-1 runs and is judged against their
    // mean: on a machine others load, the speed drifts from one minute to the next.
    const rawRuns = [await rawRun(1, ms(5_000, 500))];
    const bracketed = async (label: string, run: ServedRun, timing = saturated) => {
      log(`served, ${CLIENTS} clients, ${label}`);
      const served = await withNode(model, scratch, run, load(CLIENTS, timing));
      log("raw batch 1 again");
      rawRuns.push(await rawRun(1, ms(5_000, 500)));
      return { served, baseline: meanRaw(rawRuns.at(-2)!, rawRuns.at(-1)!) };
    };
    // The defaults of the provider the sessions actually run on. "Batching on" is those, or, where
    // they run one job at a time (CPU), batches of up to 4: the trade-off that default was chosen by.
    const defaults = BATCH_DEFAULTS[raw.executionProvider === "cuda" ? "cuda" : "cpu"];
    const batching = defaults.maxBatch > 1 ? defaults : { maxBatch: 4, maxBatchDelayMs: 0 };
    const off = await bracketed("batching off", batchingOff);
    const on = await bracketed(
      `batching on (${batching.maxBatch}, ${batching.maxBatchDelayMs} ms)`,
      { ...batching, moderation: false },
    );
    // As nodes run: the provider's batching, each generation batch moderated as one batch.
    const moderated = args.moderation
      ? await bracketed(
          `moderation on, the node's batching (${defaults.maxBatch}, ${defaults.maxBatchDelayMs} ms)`,
          { ...defaults, moderation: true },
          { warmupMs: ms(2_000, 300), durationMs: saturated.durationMs },
        )
      : null;
    log("paired: a raw iteration, then the same kind of image through the idle node");
    const paired: PairedOverheadResult = await withNode(model, scratch, batchingOff, (regionUrl) =>
      pairedOverhead({
        pipeline: raw.pipeline,
        regionUrl,
        region: REGION,
        secret: SECRET,
        receiver,
        model: modelId,
        side: SIDE,
        prompt: PROMPT,
        durationMs: ms(8_000, 500),
      }),
    );
    const rawBatches: RawLoopResult[] = [];
    for (const batch of [2, 4, 8]) {
      log(`raw batch ${batch}`);
      rawBatches.push(await rawRun(batch, ms(3_000, 300)));
    }
    let noSpinning: RawLoopResult | null = null;
    if (raw.executionProvider === "cpu") {
      log("raw batch 1, intra-op threads not spinning");
      noSpinning = await rawWithoutSpinning(model, SIDE, ms(5_000, 300));
    }
    log("cold loads by tier");
    const loads = await measureColdLoads({
      modelsDir: model.modelsDir,
      model: model.ref,
      trials: ms(3, 1),
      executionProvider: EP,
    });

    const results = report({
      machine: {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model ?? "unknown",
        node: process.version,
        execution_provider: raw.executionProvider,
        load_average_before: loadBefore.map((n) => Math.round(n * 100) / 100),
        load_average_after: loadavg().map((n) => Math.round(n * 100) / 100),
      },
      started_at: startedAt.toISOString(),
      command: quick ? "npm run bench:region -- --quick" : "npm run bench:region",
      side: SIDE,
      clients: CLIENTS,
      raw: {
        batch1: rawRuns.reduce(meanRaw),
        batch1Runs: rawRuns,
        batches: rawBatches,
        noSpinning,
      },
      batchingOn: { maxBatch: batching.maxBatch, maxBatchDelayMs: batching.maxBatchDelayMs },
      defaults: { maxBatch: defaults.maxBatch, maxBatchDelayMs: defaults.maxBatchDelayMs },
      served: { off: off.served, on: on.served, moderated: moderated?.served ?? null },
      baselines: {
        off: off.baseline,
        on: on.baseline,
        moderated: moderated?.baseline ?? null,
      },
      paired,
      loads,
    });
    const out = resolve(args.out);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(results.json, null, 2)}\n`);
    process.stdout.write(`${results.text}\nwritten to ${out}\n`);
  } finally {
    await raw.release();
    await receiver.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
