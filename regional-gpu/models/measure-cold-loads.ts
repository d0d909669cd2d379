import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { ExecutionProviderChoice } from "../config.ts";
import { createLogger, type Logger } from "../log.ts";
import { DEFAULT_MODELS_DIR, ensureReferenceModel } from "../model-build/build-reference-model.ts";
import { startModelHttpServer } from "../testing/model-http-server.ts";
import { ModelDiskCache } from "./disk-cache.ts";
import { HttpModelStore } from "./http-model-store.ts";
import { ModelPool } from "./model-pool.ts";
import { parseModelRef } from "./model-repository.ts";
import { PIPELINE_FACTORIES } from "./pipeline-factories.ts";
import { OrtSessionFactory } from "./session-factory.ts";
import { TieredModelRepository } from "./tiered-model-repository.ts";

// Times a model's acquire from each tier, for the benchmark: from the store (a loopback HTTP store
// serving `modelsDir`, empty disk cache), from the disk tier (cache filled, nothing hot), and a hot
// hit. Each time covers all an acquire does: manifest, fetch, sha256 checks, session creation,
// pipeline setup and the warm-up run. One untimed load runs first, so ONNX Runtime's one-time
// process setup is not charged to a tier.
//
//   node regional-gpu/models/measure-cold-loads.ts [--trials 5] [--model-dir .data/models]

export interface ColdLoadTimes {
  model: string;
  store: string;
  execution_provider: string;
  trials: number;
  /** Milliseconds per trial, in order. */
  store_ms: number[];
  disk_ms: number[];
  hot_ms: number[];
  median_ms: { store: number; disk: number; hot: number };
  /**
   * Median CPU time of this process (all threads) per load: on a busy machine, what the load would
   * take alone, as far as it is CPU-bound.
   */
  median_cpu_ms: { store: number; disk: number };
  /** Measured hot-tier footprint of the model (last trial). */
  footprint_bytes: number;
}

export interface MeasureColdLoadsOptions {
  /** A MODEL_DIR-shaped folder holding the model. */
  modelsDir: string;
  /** name@version */
  model: string;
  /** Default 5. */
  trials?: number;
  /** Default "cpu". */
  executionProvider?: ExecutionProviderChoice;
  logger?: Logger;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const round = (ms: number) => Math.round(ms * 10) / 10;

export async function measureColdLoads(opts: MeasureColdLoadsOptions): Promise<ColdLoadTimes> {
  const parsed = parseModelRef(opts.model);
  if (!parsed) throw new Error(`not a model ref (name@version): ${opts.model}`);
  const [name, version] = parsed;
  const trials = opts.trials ?? 5;
  const logger = opts.logger ?? createLogger({ level: "silent" });
  const sessions = new OrtSessionFactory({ choice: opts.executionProvider ?? "cpu", logger });
  const server = await startModelHttpServer(opts.modelsDir);
  const root = await mkdtemp(join(tmpdir(), "cold-loads-"));

  const poolOn = async (cacheDir: string) => {
    const cache = new ModelDiskCache({ dir: cacheDir, maxBytes: 2 ** 40, logger });
    await cache.open();
    const store = new HttpModelStore({ baseUrl: server.url, timeoutMs: 10_000 });
    const repository = new TieredModelRepository({ store, cache, logger, stallTimeoutMs: 10_000 });
    return new ModelPool({ repository, sessions, pipelines: PIPELINE_FACTORIES, logger });
  };
  const timed = async <T>(fn: () => Promise<T>) => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const value = await fn();
    const used = process.cpuUsage(cpu);
    return { value, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
  };
  const cpuMs = { store: [] as number[], disk: [] as number[] };

  const result: ColdLoadTimes = {
    model: opts.model,
    store: server.url,
    execution_provider: "none",
    trials,
    store_ms: [],
    disk_ms: [],
    hot_ms: [],
    median_ms: { store: 0, disk: 0, hot: 0 },
    median_cpu_ms: { store: 0, disk: 0 },
    footprint_bytes: 0,
  };
  try {
    for (let trial = -1; trial < trials; trial++) {
      const cacheDir = join(root, `trial-${trial + 1}`);
      const cold = await poolOn(cacheDir);
      const fromStore = await timed(() => cold.acquire(name, version));
      await cold.close();
      const warm = await poolOn(cacheDir);
      const fromDisk = await timed(() => warm.acquire(name, version));
      const hot = await timed(() => warm.acquire(name, version));
      result.execution_provider = warm.executionProvider();
      result.footprint_bytes = warm.stats().hot.footprints[opts.model] ?? 0;
      await warm.close();
      if (trial < 0) continue;
      result.store_ms.push(round(fromStore.ms));
      result.disk_ms.push(round(fromDisk.ms));
      result.hot_ms.push(Math.round(hot.ms * 1000) / 1000);
      cpuMs.store.push(fromStore.cpuMs);
      cpuMs.disk.push(fromDisk.cpuMs);
    }
  } finally {
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
  result.median_ms = {
    store: median(result.store_ms),
    disk: median(result.disk_ms),
    hot: median(result.hot_ms),
  };
  result.median_cpu_ms = { store: round(median(cpuMs.store)), disk: round(median(cpuMs.disk)) };
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { trials: { type: "string" }, "model-dir": { type: "string" } },
  });
  const modelsDir = resolve(values["model-dir"] ?? DEFAULT_MODELS_DIR);
  const { manifest } = await ensureReferenceModel(modelsDir, (line) => console.error(line));
  const times = await measureColdLoads({
    modelsDir,
    model: `${manifest.name}@${manifest.version}`,
    trials: Number(values.trials ?? 5),
  });
  console.log(JSON.stringify(times, null, 2));
}

if (import.meta.main) await main();
