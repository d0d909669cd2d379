import { resolve } from "node:path";
import { createS3Client } from "../../storage/s3.ts";
import { ConfigError, type ExecutionProviderChoice, type RegionNodeConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { ModelDiskCache } from "./disk-cache.ts";
import { HttpModelStore } from "./http-model-store.ts";
import { NvidiaSmiMemoryProbe, ProcessMemoryProbe, type MemoryProbe } from "./memory-probe.ts";
import { ModelPool } from "./model-pool.ts";
import { ModelPoolEvents } from "./model-pool-events.ts";
import type { ModelRepository } from "./model-repository.ts";
import { LocalModelStore } from "./model-store.ts";
import { PIPELINE_FACTORIES } from "./pipeline-factories.ts";
import type { RemoteModelStore } from "./remote-model-store.ts";
import { S3ModelStore } from "./s3-model-store.ts";
import { cudaLibraryMissing, OrtSessionFactory, type SessionFactory } from "./session-factory.ts";
import { TieredModelRepository } from "./tiered-model-repository.ts";

// Builds the three-tier model pool from the node's configuration: hot sessions budgeted on the
// device they run on, a disk cache in front of MODEL_STORE_URL (or MODEL_DIR read in place), and
// the warm set to pin before /readyz turns true.

/** Share of the device's memory hot models may hold when MODEL_MEMORY_BUDGET_BYTES is unset. */
const DEFAULT_BUDGET_SHARE: Record<string, number> = { cpu: 0.5, cuda: 0.8 };

export interface ModelPoolDeps {
  logger: Logger;
  sessions?: SessionFactory;
  /** Replaces the repository the config describes. */
  repository?: ModelRepository;
  memory?: MemoryProbe;
  events?: ModelPoolEvents;
}

export const modelCacheDirOf = (config: RegionNodeConfig) =>
  config.modelCacheDir ?? `.data/regions/${config.regionName}/model-cache`;

/** The device sessions will run on: CUDA where it is asked for and its library is installed. */
function expectedDevice(choice: ExecutionProviderChoice): "cpu" | "cuda" {
  return choice !== "cpu" && cudaLibraryMissing() === null ? "cuda" : "cpu";
}

export function memoryProbeFor(choice: ExecutionProviderChoice): MemoryProbe {
  return expectedDevice(choice) === "cuda" ? new NvidiaSmiMemoryProbe() : new ProcessMemoryProbe();
}

export async function memoryBudgetOf(
  config: RegionNodeConfig,
  probe: MemoryProbe,
): Promise<number | undefined> {
  if (config.modelMemoryBudgetBytes !== undefined) return config.modelMemoryBudgetBytes;
  const device = expectedDevice(config.executionProvider);
  const capacity = (await probe.capacity(device)) ?? (await probe.capacity("cpu"));
  return capacity === null
    ? undefined
    : Math.floor(capacity * (DEFAULT_BUDGET_SHARE[device] ?? 0.5));
}

function remoteStoreOf(config: RegionNodeConfig): RemoteModelStore | null {
  const spec = config.modelStore;
  if (!spec) return null;
  if (spec.kind === "http") {
    return new HttpModelStore({ baseUrl: spec.url, timeoutMs: config.modelStoreTimeoutMs });
  }
  const client = createS3Client({
    forcePathStyle: spec.forcePathStyle,
    ...(spec.endpoint && { endpoint: spec.endpoint }),
    ...(spec.region && { region: spec.region }),
  });
  return new S3ModelStore({ bucket: spec.bucket, prefix: spec.prefix, client });
}

/** MODEL_STORE_URL behind a disk cache, or MODEL_DIR read in place. */
export async function createModelRepository(
  config: RegionNodeConfig,
  logger: Logger,
  events?: ModelPoolEvents,
): Promise<ModelRepository> {
  const store = remoteStoreOf(config);
  if (!store) return new LocalModelStore(resolve(config.modelDir));
  const cache = new ModelDiskCache({
    dir: resolve(modelCacheDirOf(config)),
    maxBytes: config.modelCacheMaxBytes,
    logger,
    ...(events && { events }),
  });
  await cache.open();
  return new TieredModelRepository({
    store,
    cache,
    logger,
    ...(events && { events }),
    stallTimeoutMs: config.modelStoreTimeoutMs,
  });
}

export async function createModelPool(
  config: RegionNodeConfig,
  deps: ModelPoolDeps,
): Promise<ModelPool> {
  const { logger } = deps;
  const events = deps.events ?? new ModelPoolEvents();
  const repository = deps.repository ?? (await createModelRepository(config, logger, events));
  const memory = deps.memory ?? memoryProbeFor(config.executionProvider);
  const budget = await memoryBudgetOf(config, memory);
  logger.info("model pool configured", {
    store: repository.description,
    memory_budget_bytes: budget ?? null,
    disk_cache: repository.diskStats?.() ?? null,
  });
  return new ModelPool({
    repository,
    sessions: deps.sessions ?? new OrtSessionFactory({ choice: config.executionProvider, logger }),
    pipelines: PIPELINE_FACTORIES,
    logger,
    memory,
    events,
    ...(budget !== undefined && { memoryBudgetBytes: budget }),
  });
}

/** The models to pin: WARM_MODELS, else every model in MODEL_DIR (none from a remote store). */
export async function warmSetOf(
  config: RegionNodeConfig,
  repository: Pick<ModelRepository, "list">,
): Promise<string[]> {
  if (config.warmModels) return config.warmModels;
  const all = await repository.list();
  if (all.length === 0 && !config.modelStore) {
    throw new ConfigError(`no models in MODEL_DIR ${resolve(config.modelDir)}; build one first`);
  }
  return all;
}
