import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { InferenceSession } from "onnxruntime-node";
import { z } from "zod";
import type { SafetyScores } from "../../contracts/region-protocol.ts";
import { processCpuMs } from "../bench/stats.ts";
import { ExecutionProviderChoice } from "../config.ts";
import { WorkerSessionFactory } from "../inference/worker-sessions.ts";
import { createLogger } from "../log.ts";
import { DEFAULT_CLASSIFIERS_DIR } from "../model-build/classifiers/build-classifiers.ts";
import { ensureReferenceModel } from "../model-build/build-reference-model.ts";
import { createCppnPipeline } from "../pipelines/cppn-text2img.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import { loadVocabulary } from "../pipelines/vocabulary.ts";
import { TEST_MODELS_DIR } from "../testing/reference-model.ts";
import { ClassifierModel, OUTPUT_ORDER } from "./classifier-options.ts";
import { loopLagDuring } from "./event-loop-lag.ts";
import { OnnxClassifier } from "./onnx-classifier.ts";
import { classifierInput, OutputModerator, type ModerationCheck } from "./output-moderator.ts";
import { STRICTNESS_THRESHOLDS } from "./policy.ts";
import { SAMPLE_PROMPTS, seededPrompts } from "./sample-prompts.ts";
import { ramp } from "./synthetic-images.ts";

// `npm run bench:moderation`: what output moderation costs and how it judges the reference model's
// images, all measured in one run on this machine:
//   1. per model: the ONNX classifier (ORT_EP, on an executor thread, as nodes run it) against
//      nsfwjs on TensorFlow.js (wasm, in-thread: what nodes ran before), latency of one check
//      (resize from 512x512 + classify) and images/s in batches of 4; max abs difference of their
//      probabilities on the same images (--no-tfjs skips TensorFlow.js, a dev dependency);
//   2. the event loop's longest stall while checks run;
//   3. scores of CPPN renders: 20 fixed prompts and a wider seeded sample, screen and confirmation.
// Figures go to stdout and to a JSON file (default bench-results/moderation.json).

const Args = z.object({
  out: z.string().default("bench-results/moderation.json"),
  checks: z.coerce.number().int().min(2).default(20),
  sample: z.coerce.number().int().min(0).default(100),
  ep: ExecutionProviderChoice.default("cpu"),
  tfjs: z.boolean().default(true),
  dir: z.string().default(DEFAULT_CLASSIFIERS_DIR),
  models: z
    .string()
    .default("MobileNetV2Mid,InceptionV3,MobileNetV2")
    .transform((s) => s.split(",").map((m) => ClassifierModel.parse(m.trim()))),
});
type Args = z.infer<typeof Args>;

const logger = createLogger({ level: "warn" });
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const BATCH = 4;

interface Scorer {
  side: number;
  score(images: Uint8Array[]): Promise<SafetyScores[]>;
}

/** One check after another (latency), then batches of BATCH for as many images (throughput). */
async function timeScorer(scorer: Scorer, checks: number) {
  const image = ramp(512, 512);
  const one = async () => (await scorer.score([await classifierInput(image, scorer.side)]))[0]!;
  await one();
  const ms: number[] = [];
  for (let i = 0; i < checks; i++) {
    const started = performance.now();
    await one();
    ms.push(performance.now() - started);
  }
  const inputs = await Promise.all(
    Array.from({ length: BATCH }, (_, i) => classifierInput(ramp(512, 512, i * 20), scorer.side)),
  );
  const cpu = processCpuMs();
  const started = performance.now();
  const rounds = Math.max(2, Math.ceil(checks / BATCH));
  for (let i = 0; i < rounds; i++) await scorer.score(inputs);
  const seconds = (performance.now() - started) / 1000;
  return {
    p50_ms: round(quantile(ms, 0.5)),
    p99_ms: round(quantile(ms, 0.99)),
    batch_images_per_s: round((rounds * BATCH) / seconds),
    batch_cpu_ms_per_image: round((processCpuMs() - cpu) / (rounds * BATCH)),
  };
}

async function onnxScorer(model: ClassifierModel, args: Args) {
  const sessions = new WorkerSessionFactory({ choice: args.ep, logger });
  const classifier = new OnnxClassifier({ model, sessions, dir: args.dir, logger });
  const started = performance.now();
  await classifier.load();
  const loadMs = round(performance.now() - started);
  const scorer: Scorer = { side: classifier.side, score: (images) => classifier.classify(images) };
  return {
    scorer,
    classifier,
    loadMs,
    close: async () => {
      await classifier.close();
      await sessions.close();
    },
  };
}

async function tfjsScorer(model: ClassifierModel) {
  const { loadNsfwModel } = await import("../model-build/classifiers/tfjs-reference.ts");
  const started = performance.now();
  const tf = await loadNsfwModel(model, "wasm");
  const loadMs = round(performance.now() - started);
  const scorer: Scorer = {
    side: tf.side,
    score: (images) => {
      const bytes = tf.side * tf.side * 3;
      const packed = new Uint8Array(images.length * bytes);
      images.forEach((image, i) => packed.set(image, i * bytes));
      return tf.score(packed, images.length);
    },
  };
  return { scorer, loadMs };
}

/** Largest difference of any class probability between the two on the same images. */
async function maxAbsDiff(a: Scorer, b: Scorer): Promise<number> {
  const images = await Promise.all(
    [0, 40, 80, 120].map((shift) => classifierInput(ramp(512, 512, shift), a.side)),
  );
  const [x, y] = [await a.score(images), await b.score(images)];
  return Math.max(...x.flatMap((s, i) => OUTPUT_ORDER.map((c) => Math.abs(s[c] - y[i]![c]))));
}

async function compareModel(model: ClassifierModel, args: Args) {
  const onnx = await onnxScorer(model, args);
  try {
    const ours = { load_ms: onnx.loadMs, ...(await timeScorer(onnx.scorer, args.checks)) };
    const row = {
      model,
      classifier: onnx.classifier.id,
      execution_provider: onnx.classifier.executionProvider,
      onnx: ours,
    };
    if (!args.tfjs) return row;
    const tf = await tfjsScorer(model);
    const theirs = { load_ms: tf.loadMs, ...(await timeScorer(tf.scorer, args.checks)) };
    return {
      ...row,
      tfjs_wasm: theirs,
      max_abs_diff: await maxAbsDiff(onnx.scorer, tf.scorer),
      p50_speedup: round(theirs.p50_ms / ours.p50_ms, 2),
      batch_speedup: round(ours.batch_images_per_s / theirs.batch_images_per_s, 2),
    };
  } finally {
    await onnx.close();
  }
}

async function eventLoop(args: Args) {
  const onnx = await onnxScorer("MobileNetV2Mid", args);
  const moderator = new OutputModerator({ screen: onnx.classifier });
  const image = ramp(512, 512);
  try {
    await moderator.check(image);
    const checks = Math.min(args.checks, 10);
    const lag = await loopLagDuring(async () => {
      for (let i = 0; i < checks; i++) await moderator.check(image);
    });
    return { checks, wall_ms: round(lag.wallMs), max_stall_ms: round(lag.maxGapMs) };
  } finally {
    await onnx.close();
  }
}

async function cppnRenderer() {
  const { manifestPath, manifest } = await ensureReferenceModel(TEST_MODELS_DIR, () => {});
  const dir = dirname(manifestPath);
  const vocab = await loadVocabulary(join(dir, manifest.tokenizer.file), manifest.tokenizer.sha256);
  const session = await InferenceSession.create(join(dir, manifest.file), {
    executionProviders: ["cpu"],
  });
  const pipeline = createCppnPipeline(manifest, session, vocab);
  const render = async (requests: { prompt: string; seed: number }[]): Promise<RawImage[]> => {
    const images: RawImage[] = [];
    for (let i = 0; i < requests.length; i += 10) {
      const batch = requests.slice(i, i + 10).map((r) => ({ ...r, width: 128, height: 128 }));
      images.push(...(await pipeline.run(batch)));
    }
    return images;
  };
  return {
    render,
    model: `${manifest.name}@${manifest.version}`,
    release: () => session.release(),
  };
}

const blocking = ["porn", "hentai", "sexy"] as const;
const show = (s: SafetyScores) => blocking.map((c) => `${c}=${s[c].toFixed(3)}`).join(" ");

async function cppnScores(args: Args) {
  const renderer = await cppnRenderer();
  const sessions = new WorkerSessionFactory({ choice: args.ep, logger });
  const screen = new OnnxClassifier({ model: "MobileNetV2Mid", sessions, dir: args.dir, logger });
  const confirm = new OnnxClassifier({ model: "InceptionV3", sessions, dir: args.dir, logger });
  const moderator = new OutputModerator({ screen, confirm });
  try {
    const fixed = await renderer.render(
      SAMPLE_PROMPTS.map((prompt, i) => ({ prompt, seed: 1000 + i })),
    );
    const fixedChecks = await Promise.all(fixed.map((img) => moderator.check(img)));
    const rows = fixedChecks.map((c, i) => ({
      prompt: SAMPLE_PROMPTS[i]!,
      seed: 1000 + i,
      scores: c.verdict.scores,
      blocked: c.verdict.blocked,
    }));
    const requests = seededPrompts(args.sample).map((prompt, i) => ({ prompt, seed: 5000 + i }));
    const wide = await renderer.render(requests);
    const wideChecks: ModerationCheck[] = await Promise.all(
      wide.map((img) => moderator.check(img)),
    );
    const flagged = wideChecks.flatMap((c, i) =>
      c.screening
        ? [
            {
              ...requests[i]!,
              screen: c.screening.verdict.scores,
              confirm: c.verdict.scores,
              blocked: c.verdict.blocked,
            },
          ]
        : [],
    );
    const max = (key: (typeof blocking)[number]) =>
      round(Math.max(...wideChecks.map((c) => (c.screening?.verdict ?? c.verdict).scores[key])), 3);
    return {
      cppn_model: renderer.model,
      size: "128x128",
      thresholds_standard: STRICTNESS_THRESHOLDS.standard,
      fixed_prompts: rows,
      wide_sample: {
        images: args.sample,
        screen_max: { porn: max("porn"), hentai: max("hentai"), sexy: max("sexy") },
        flagged_by_screen: flagged.length,
        blocked_after_confirmation: wideChecks.filter((c) => c.verdict.blocked).length,
        flagged,
      },
    };
  } finally {
    await Promise.all([screen.close(), confirm.close()]);
    await sessions.close();
    await renderer.release();
  }
}

function printModel(row: Awaited<ReturnType<typeof compareModel>>): void {
  const o = row.onnx;
  const line = [
    `${row.model.padEnd(15)} onnx (${row.execution_provider}) p50 ${o.p50_ms} ms p99 ${o.p99_ms} ms,`,
    `batch of ${BATCH}: ${o.batch_images_per_s} img/s, CPU ${o.batch_cpu_ms_per_image} ms/img (load ${o.load_ms} ms)`,
  ];
  if ("tfjs_wasm" in row) {
    const t = row.tfjs_wasm;
    line.push(
      `| tfjs wasm p50 ${t.p50_ms} ms, batch ${t.batch_images_per_s} img/s, CPU ${t.batch_cpu_ms_per_image} ms/img`,
      `| speed-up p50 x${row.p50_speedup}, batch x${row.batch_speedup}; max abs diff ${row.max_abs_diff.toExponential(2)}`,
    );
  }
  console.log(line.join(" "));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    allowNegative: true,
    options: {
      out: { type: "string" },
      checks: { type: "string" },
      sample: { type: "string" },
      models: { type: "string" },
      ep: { type: "string", default: process.env.ORT_EP ?? "cpu" },
      tfjs: { type: "boolean", default: true },
      dir: { type: "string" },
    },
  });
  const args = Args.parse(values);
  const load = () => loadavg().map((x) => round(x, 2));
  const loadAtStart = load();
  console.log(`${cpus().length} cores; load average at start: ${loadAtStart.join(" ")}`);

  const models = [];
  for (const model of args.models) {
    const row = await compareModel(model, args);
    printModel(row);
    models.push(row);
  }
  const loop = await eventLoop(args);
  console.log(
    `event loop during ${loop.checks} checks (${loop.wall_ms} ms): longest stall ${loop.max_stall_ms} ms`,
  );
  const scores = await cppnScores(args);
  for (const row of scores.fixed_prompts) {
    console.log(`  ${row.prompt.padEnd(40)} ${show(row.scores)}${row.blocked ? "  BLOCKED" : ""}`);
  }
  const wide = scores.wide_sample;
  console.log(
    `wide sample of ${wide.images}: screen max porn ${wide.screen_max.porn} hentai ${wide.screen_max.hentai} ` +
      `sexy ${wide.screen_max.sexy}; flagged by the screen ${wide.flagged_by_screen}, ` +
      `blocked after confirmation ${wide.blocked_after_confirmation}`,
  );
  for (const f of wide.flagged) {
    console.log(
      `  flagged "${f.prompt}" seed ${f.seed}: screen ${show(f.screen)} -> confirm ${show(f.confirm)}`,
    );
  }

  const out = resolve(args.out);
  await mkdir(dirname(out), { recursive: true });
  const report = {
    at: new Date().toISOString(),
    command: "npm run bench:moderation",
    execution_provider_choice: args.ep,
    load_average: { start: loadAtStart, end: load() },
    models,
    event_loop: loop,
    cppn: scores,
  };
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`figures written to ${out}; load average at end: ${load().join(" ")}`);
}

if (import.meta.main) await main();
