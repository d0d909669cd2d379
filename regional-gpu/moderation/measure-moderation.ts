import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import { z } from "zod";
import type { SafetyScores } from "../../contracts/region-protocol.ts";
import { createLogger } from "../log.ts";
import { ensureReferenceModel } from "../model-build/build-reference-model.ts";
import { createCppnPipeline } from "../pipelines/cppn-text2img.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import { loadVocabulary } from "../pipelines/vocabulary.ts";
import { TEST_MODELS_DIR } from "../testing/reference-model.ts";
import { ClassifierPool } from "./classifier-pool.ts";
import { ClassifierBackend, ClassifierModel } from "./classifier-options.ts";
import { loopLagDuring } from "./event-loop-lag.ts";
import { classifierInput, OutputModerator, type ModerationCheck } from "./output-moderator.ts";
import { STRICTNESS_THRESHOLDS } from "./policy.ts";
import { SAMPLE_PROMPTS, seededPrompts } from "./sample-prompts.ts";
import { ramp } from "./synthetic-images.ts";

// `npm run bench:moderation`: what output moderation costs and how it judges the reference model's
// images, all measured in one run on this machine:
//   1. latency per check (resize + worker + classify) per model, wasm against the cpu backend;
//   2. event-loop delay while checks run on the worker pool, against the same checks in-thread;
//   3. scores of CPPN renders: 20 fixed prompts, and a wider seeded sample, screen alone and with
//      the confirming classifier.
// Figures go to stdout and to a JSON file (default .data/bench/moderation.json).

const Args = z.object({
  out: z.string().default(".data/bench/moderation.json"),
  checks: z.coerce.number().int().min(2).default(20),
  cpuChecks: z.coerce.number().int().min(2).default(3),
  sample: z.coerce.number().int().min(0).default(100),
  models: z
    .string()
    .default("MobileNetV2Mid,MobileNetV2,InceptionV3")
    .transform((s) => s.split(",").map((m) => ClassifierModel.parse(m.trim()))),
});

const logger = createLogger({ level: "silent" });
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** Sequential checks after one warm-up: per-check latency as a node sees it. */
async function latency(model: ClassifierModel, backend: ClassifierBackend, checks: number) {
  const loadStarted = performance.now();
  const pool = await ClassifierPool.start({ model, backend, workers: 1, logger });
  const loadMs = performance.now() - loadStarted;
  const moderator = new OutputModerator({ screen: pool });
  const image = ramp(512, 512);
  try {
    await moderator.check(image);
    const ms: number[] = [];
    for (let i = 0; i < checks; i++) ms.push((await moderator.check(image)).ms);
    return {
      model,
      backend,
      checks,
      load_ms: round(loadMs),
      p50_ms: round(quantile(ms, 0.5)),
      p99_ms: round(quantile(ms, 0.99)),
    };
  } finally {
    await pool.close();
  }
}

/** The event loop's longest stall while `run` goes. */
async function stallDuring(run: () => Promise<void>) {
  const lag = await loopLagDuring(run);
  return { wall_ms: round(lag.wallMs), max_stall_ms: round(lag.maxGapMs) };
}

async function eventLoop(checks: number) {
  const image = ramp(512, 512);
  const pool = await ClassifierPool.start({
    model: "MobileNetV2Mid",
    backend: "wasm",
    workers: 1,
    logger,
  });
  const moderator = new OutputModerator({ screen: pool });
  await moderator.check(image);
  const onWorker = await stallDuring(async () => {
    for (let i = 0; i < checks; i++) await moderator.check(image);
  });
  await pool.close();
  // The baseline: the same classifier on this thread (TensorFlow.js is synchronous inside predict).
  const { loadNsfwModel } = await import("./nsfw-model.ts");
  const inThread = await loadNsfwModel("MobileNetV2Mid", "wasm");
  const pixels = await classifierInput(image, inThread.side);
  await inThread.score(pixels, 1);
  const onThread = await stallDuring(async () => {
    for (let i = 0; i < checks; i++) await inThread.score(pixels, 1);
  });
  return { checks, worker_pool: onWorker, in_thread: onThread };
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

async function cppnScores(sample: number) {
  const renderer = await cppnRenderer();
  const screen = await ClassifierPool.start({
    model: "MobileNetV2Mid",
    backend: "wasm",
    workers: 1,
    logger,
  });
  const confirm = await ClassifierPool.start({
    model: "InceptionV3",
    backend: "wasm",
    workers: 1,
    logger,
  });
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
    const requests = seededPrompts(sample).map((prompt, i) => ({ prompt, seed: 5000 + i }));
    const wide = await renderer.render(requests);
    const wideChecks: ModerationCheck[] = [];
    for (const img of wide) wideChecks.push(await moderator.check(img));
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
        images: sample,
        screen_max: { porn: max("porn"), hentai: max("hentai"), sexy: max("sexy") },
        flagged_by_screen: flagged.length,
        blocked_after_confirmation: wideChecks.filter((c) => c.verdict.blocked).length,
        flagged,
      },
    };
  } finally {
    await Promise.all([screen.close(), confirm.close()]);
    await renderer.release();
  }
}

async function main(): Promise<void> {
  const { values } = await import("node:util").then(({ parseArgs }) =>
    parseArgs({
      options: {
        out: { type: "string" },
        checks: { type: "string" },
        "cpu-checks": { type: "string" },
        sample: { type: "string" },
        models: { type: "string" },
      },
    }),
  );
  const args = Args.parse({ ...values, cpuChecks: values["cpu-checks"] });
  const load = () => loadavg().map((x) => round(x, 2));
  const loadAtStart = load();
  console.log(`${cpus().length} cores; load average at start: ${loadAtStart.join(" ")}`);

  const latencies = [];
  for (const model of args.models) {
    const wasm = await latency(model, "wasm", args.checks);
    const cpu = await latency(model, "cpu", args.cpuChecks);
    latencies.push({ model, wasm, cpu, cpu_over_wasm_p50: round(cpu.p50_ms / wasm.p50_ms, 2) });
    console.log(
      `${model.padEnd(15)} wasm p50 ${wasm.p50_ms} ms p99 ${wasm.p99_ms} ms (load ${wasm.load_ms} ms) | ` +
        `cpu p50 ${cpu.p50_ms} ms p99 ${cpu.p99_ms} ms | cpu/wasm ${round(cpu.p50_ms / wasm.p50_ms, 2)}x`,
    );
  }

  const loop = await eventLoop(Math.min(args.checks, 10));
  console.log(
    `event loop during ${loop.checks} checks: longest stall ${loop.worker_pool.max_stall_ms} ms ` +
      `with the worker pool (${loop.worker_pool.wall_ms} ms of checks) | ` +
      `${loop.in_thread.max_stall_ms} ms in-thread (${loop.in_thread.wall_ms} ms of checks)`,
  );

  const scores = await cppnScores(args.sample);
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
    load_average: { start: loadAtStart, end: load() },
    latencies,
    event_loop: loop,
    cppn: scores,
  };
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`figures written to ${out}; load average at end: ${load().join(" ")}`);
}

if (import.meta.main) await main();
