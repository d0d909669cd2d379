import type { ColdLoadTimes } from "../models/measure-cold-loads.ts";
import type { PairedOverheadResult } from "./paired-overhead.ts";
import type { RawLoopResult } from "./raw-loop.ts";
import type { ServedLoadResult } from "./served-load.ts";
import { round, summarise, type Summary } from "./stats.ts";

// Turns the benchmark's measurements into the figures it is judged by (ratios against the raw
// baseline measured in the same run, never a bare absolute as a verdict) and into a printable table.

export interface BenchInput {
  machine: Record<string, unknown>;
  started_at: string;
  command: string;
  side: number;
  clients: number;
  raw: {
    /** Every raw batch-1 run of the benchmark, taken together. */
    batch1: RawLoopResult;
    batch1Runs: RawLoopResult[];
    batches: RawLoopResult[];
    /** Batch 1 on a CPU session without intra-op spinning; null on CUDA. */
    noSpinning: RawLoopResult | null;
  };
  /** The limits of the served "batching on" run (and of the moderated one). */
  batchingOn: { maxBatch: number; maxBatchDelayMs: number };
  /** The node's own batching (the provider's defaults): what the moderated run used. */
  defaults: { maxBatch: number; maxBatchDelayMs: number };
  served: {
    off: ServedLoadResult;
    on: ServedLoadResult;
    /** The node's batching, with the real classifiers (each generation batch moderated as one). */
    moderated: ServedLoadResult | null;
  };
  /** Raw batch 1 measured just before and after each served run: what that run is judged against. */
  baselines: {
    off: RawLoopResult;
    on: RawLoopResult;
    moderated: RawLoopResult | null;
  };
  paired: PairedOverheadResult;
  loads: ColdLoadTimes;
}

export const TARGETS = {
  servedOverRaw: 0.95,
  moderatedOverRaw: 0.8,
  p50OverheadMs: 5,
  diskLoadMs: 300,
  storeLoadMs: 1_000,
} as const;

const summary = (s: Summary) => ({
  p50: round(s.p50),
  p99: round(s.p99),
  mean: round(s.mean),
  count: s.count,
});

const rawJson = (r: RawLoopResult) => ({
  batch: r.batch,
  images_per_s: round(r.imagesPerS),
  cpu_ms_per_image: round(r.cpuMsPerImage),
  iteration_ms: summary(r.iterationMs),
  run_ms: summary(r.runMs),
});

const servedJson = (s: ServedLoadResult) => ({
  clients: s.clients,
  images_per_s: round(s.imagesPerS),
  cpu_ms_per_image: round(s.cpuMsPerImage),
  latency_ms: summary(s.latencyMs),
  stages_ms: {
    queue: summary(s.stagesMs.queue),
    inference: summary(s.stagesMs.inference),
    encode: summary(s.stagesMs.encode),
    upload: summary(s.stagesMs.upload),
    ...(s.stagesMs.moderation && { moderation: summary(s.stagesMs.moderation) }),
  },
  batch_size: summary(s.batchSize),
  failures: s.failures,
});

export function report(input: BenchInput): { json: Record<string, unknown>; text: string } {
  const { raw, served, paired, baselines } = input;
  const loads = {
    disk: summarise(input.loads.disk_ms),
    store: summarise(input.loads.store_ms),
    hot: summarise(input.loads.hot_ms),
  };
  const rawRate = raw.batch1.imagesPerS;
  const rawSameBatch = raw.batches.find((r) => r.batch === input.batchingOn.maxBatch);
  const servedOverRaw = served.off.imagesPerS / baselines.off.imagesPerS;
  // A lone image's latency through the idle node over a raw run + encode, median of pairs.
  const p50Overhead = paired.overheadMs.p50;
  // At saturation: extra time per image the served path costs (1 / rate difference).
  const perImageAtSaturation = 1000 / served.off.imagesPerS - 1000 / baselines.off.imagesPerS;
  // Work per image, raw over served: what served/raw would be on a machine this run had to itself.
  const cpuEfficiency = baselines.off.cpuMsPerImage / served.off.cpuMsPerImage;
  const sameBatching = input.defaults.maxBatch === 1 ? "off" : "on";
  const withoutModerationOverRaw =
    served[sameBatching].imagesPerS / baselines[sameBatching].imagesPerS;
  const moderatedOverRaw =
    served.moderated && baselines.moderated
      ? served.moderated.imagesPerS / baselines.moderated.imagesPerS
      : null;
  const ratios = {
    served_over_raw_at_saturation: round(servedOverRaw),
    served_over_raw_cpu_per_image: round(cpuEfficiency),
    served_batching_on_over_raw_same_batch: rawSameBatch
      ? round(served.on.imagesPerS / rawSameBatch.imagesPerS)
      : null,
    // Each against its own raw baseline.
    served_batching_on_over_off: round(
      served.on.imagesPerS / baselines.on.imagesPerS / servedOverRaw,
    ),
    raw_batch_over_batch1: Object.fromEntries(
      raw.batches.map((r) => [`batch${r.batch}`, round(r.imagesPerS / rawRate)]),
    ),
    // CPU time per image, batch 1 over batch n: > 1 means the batch does the same work with less.
    raw_batch_cpu_efficiency: Object.fromEntries(
      raw.batches.map((r) => [
        `batch${r.batch}`,
        round(raw.batch1.cpuMsPerImage / r.cpuMsPerImage),
      ]),
    ),
    raw_without_spinning_over_raw: raw.noSpinning
      ? round(raw.noSpinning.imagesPerS / rawRate)
      : null,
    served_with_moderation_over_raw: moderatedOverRaw === null ? null : round(moderatedOverRaw),
    // CPU per image, raw over served with moderation: the work the classifiers add.
    served_with_moderation_cpu_per_image:
      served.moderated && baselines.moderated
        ? round(baselines.moderated.cpuMsPerImage / served.moderated.cpuMsPerImage)
        : null,
    // What the classifiers cost: served runs with the same batching with and without them, each
    // against its own raw baseline.
    served_with_moderation_over_without:
      moderatedOverRaw === null ? null : round(moderatedOverRaw / withoutModerationOverRaw),
  };
  const targets = {
    served_over_raw: {
      target: `>= ${TARGETS.servedOverRaw}`,
      value: round(servedOverRaw),
      met: servedOverRaw >= TARGETS.servedOverRaw,
    },
    ...(moderatedOverRaw !== null && {
      served_with_moderation_over_raw: {
        target: `>= ${TARGETS.moderatedOverRaw}`,
        value: round(moderatedOverRaw),
        met: moderatedOverRaw >= TARGETS.moderatedOverRaw,
      },
    }),
    p50_overhead_ms: {
      target: `<= ${TARGETS.p50OverheadMs}`,
      value: round(p50Overhead),
      met: p50Overhead <= TARGETS.p50OverheadMs,
    },
    disk_load_ms: {
      target: `<= ${TARGETS.diskLoadMs}`,
      value: round(loads.disk.p50),
      met: loads.disk.p50 <= TARGETS.diskLoadMs,
    },
    store_load_ms: {
      target: `<= ${TARGETS.storeLoadMs}`,
      value: round(loads.store.p50),
      met: loads.store.p50 <= TARGETS.storeLoadMs,
    },
  };
  const json = {
    command: input.command,
    started_at: input.started_at,
    machine: input.machine,
    shape: `${input.side}x${input.side}`,
    batching_on: input.batchingOn,
    clients: input.clients,
    raw: {
      batch1: rawJson(raw.batch1),
      batch1_runs_images_per_s: raw.batch1Runs.map((r) => round(r.imagesPerS)),
      around_served_images_per_s: {
        batching_off: round(baselines.off.imagesPerS),
        batching_on: round(baselines.on.imagesPerS),
        with_moderation: baselines.moderated ? round(baselines.moderated.imagesPerS) : null,
      },
      batches: raw.batches.map(rawJson),
      batch1_without_spinning: raw.noSpinning ? rawJson(raw.noSpinning) : null,
    },
    served: {
      saturated_batching_off: servedJson(served.off),
      saturated_batching_on: servedJson(served.on),
      saturated_with_moderation: served.moderated ? servedJson(served.moderated) : null,
    },
    ratios,
    paired_1_client: {
      pairs: paired.pairs,
      raw_ms: summary(paired.rawMs),
      served_ms: summary(paired.servedMs),
      overhead_ms: summary(paired.overheadMs),
      overhead_without_store_ms: summary(paired.overheadWithoutStoreMs),
      store_write_ms: summary(paired.storeMs),
      raw_cpu_ms: summary(paired.rawCpuMs),
      overhead_cpu_ms: summary(paired.overheadCpuMs),
    },
    overhead_ms: {
      p50_latency_over_raw: round(p50Overhead),
      p50_latency_over_raw_without_store: round(paired.overheadWithoutStoreMs.p50),
      p50_cpu_over_raw: round(paired.overheadCpuMs.p50),
      per_image_at_saturation: round(perImageAtSaturation),
    },
    cold_load_ms: {
      ...Object.fromEntries(Object.entries(loads).map(([tier, s]) => [tier, summary(s)])),
      median_cpu: input.loads.median_cpu_ms,
      execution_provider: input.loads.execution_provider,
      footprint_bytes: input.loads.footprint_bytes,
    },
    targets,
  };

  const line = (label: string, value: string) => `  ${label.padEnd(46)} ${value}`;
  const rate = (n: number) => `${round(n)} img/s`;
  const lat = (s: Summary) => `p50 ${round(s.p50)} ms, p99 ${round(s.p99)} ms`;
  const verdict = (t: { met: boolean }) => (t.met ? "met" : "MISSED");
  const text = [
    `regional node vs raw ONNX Runtime, ${input.side}x${input.side}, ${input.machine.execution_provider} (${input.machine.cpus} CPU cores)`,
    line("raw batch 1 (run + encode)", `${rate(rawRate)}  ${lat(raw.batch1.iterationMs)}`),
    ...raw.batches.map((r) =>
      line(
        `raw batch ${r.batch}`,
        `${rate(r.imagesPerS)}  x${round(r.imagesPerS / rawRate)} vs batch 1; CPU ${round(r.cpuMsPerImage)} ms/img (batch 1: ${round(raw.batch1.cpuMsPerImage)})`,
      ),
    ),
    ...(raw.noSpinning
      ? [
          line(
            "raw batch 1, intra-op threads not spinning",
            `${rate(raw.noSpinning.imagesPerS)}  x${round(raw.noSpinning.imagesPerS / rawRate)}; CPU ${round(raw.noSpinning.cpuMsPerImage)} ms/img`,
          ),
        ]
      : []),
    line(
      `served, ${served.off.clients} clients, batching off`,
      `${rate(served.off.imagesPerS)} (raw around it ${rate(baselines.off.imagesPerS)})  ${lat(served.off.latencyMs)}`,
    ),
    line(
      `served, ${served.on.clients} clients, batching on`,
      `${rate(served.on.imagesPerS)} (raw around it ${rate(baselines.on.imagesPerS)})  ${lat(served.on.latencyMs)}  mean batch ${round(served.on.batchSize.mean)}`,
    ),
    line(
      `1 client, paired with raw (${paired.pairs} pairs)`,
      `served ${lat(paired.servedMs)}; raw ${lat(paired.rawMs)}`,
    ),
    line("  of which the store write", lat(paired.storeMs)),
    ...(served.moderated
      ? [
          line(
            `served with moderation, ${served.moderated.clients} clients`,
            `${rate(served.moderated.imagesPerS)} (raw around it ${rate(baselines.moderated!.imagesPerS)})  moderation ${lat(served.moderated.stagesMs.moderation ?? served.moderated.latencyMs)}  mean batch ${round(served.moderated.batchSize.mean)}`,
          ),
        ]
      : []),
    line(
      "served / raw at saturation",
      `${round(servedOverRaw)} (target >= ${TARGETS.servedOverRaw}: ${verdict(targets.served_over_raw)})`,
    ),
    ...(targets.served_with_moderation_over_raw
      ? [
          line(
            "served with moderation / raw",
            `${targets.served_with_moderation_over_raw.value} (target >= ${TARGETS.moderatedOverRaw}: ${verdict(targets.served_with_moderation_over_raw)})`,
          ),
          line(
            `  / served without (batching ${sameBatching}); CPU raw / served`,
            `${ratios.served_with_moderation_over_without}; ${ratios.served_with_moderation_cpu_per_image}`,
          ),
        ]
      : []),
    line(
      "p50 overhead per image over raw",
      `${round(p50Overhead)} ms (target <= ${TARGETS.p50OverheadMs}: ${verdict(targets.p50_overhead_ms)})`,
    ),
    line("  without the store write", `${round(paired.overheadWithoutStoreMs.p50)} ms`),
    line(
      "  in CPU time (all threads, load-independent)",
      `${round(paired.overheadCpuMs.p50)} ms over raw's ${round(paired.rawCpuMs.p50)} ms`,
    ),
    line(
      "CPU per image: raw / served at saturation",
      `${round(baselines.off.cpuMsPerImage)} / ${round(served.off.cpuMsPerImage)} ms = ${round(cpuEfficiency)}`,
    ),
    line("batching on / off (served)", `${ratios.served_batching_on_over_off}`),
    line(
      "cold load: disk tier",
      `${lat(loads.disk)} (target <= ${TARGETS.diskLoadMs}: ${verdict(targets.disk_load_ms)})`,
    ),
    line(
      "cold load: store over loopback",
      `${lat(loads.store)} (target <= ${TARGETS.storeLoadMs}: ${verdict(targets.store_load_ms)})`,
    ),
    line(
      "  CPU time of a load (median; alone it takes this)",
      `disk ${input.loads.median_cpu_ms.disk} ms, store ${input.loads.median_cpu_ms.store} ms`,
    ),
    line("hot acquire", lat(loads.hot)),
  ].join("\n");
  return { json, text };
}
