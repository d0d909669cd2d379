import { mkdtemp, rm } from "node:fs/promises";
import { totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, configFromEnv } from "../config.ts";
import { createLogger } from "../log.ts";
import {
  createModelRepository,
  memoryBudgetOf,
  modelCacheDirOf,
  warmSetOf,
} from "./create-model-pool.ts";
import { ProcessMemoryProbe } from "./memory-probe.ts";
import { LocalModelStore } from "./model-store.ts";
import { TieredModelRepository } from "./tiered-model-repository.ts";

const base = {
  REGION_NAME: "eu-west",
  REGION_SIGNING_KEY: "test:0123456789abcdefxxxxxxxxxxxxxxxx",
  EDGE_URL: "http://127.0.0.1:8787",
};
const logger = createLogger({ level: "silent" });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "create-pool-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("model pool configuration", () => {
  it("reads the model tier variables, with their defaults", () => {
    const plain = configFromEnv(base);
    expect(plain).toMatchObject({ modelCacheMaxBytes: 20 * 2 ** 30, modelStoreTimeoutMs: 10_000 });
    expect(plain.modelStore).toBeUndefined();
    expect(plain.modelMemoryBudgetBytes).toBeUndefined();
    expect(modelCacheDirOf(plain)).toBe(".data/regions/eu-west/model-cache");

    const s3 = configFromEnv({
      ...base,
      MODEL_STORE_URL: "s3://genart-models/published/",
      S3_ENDPOINT: "http://127.0.0.1:9000",
      S3_FORCE_PATH_STYLE: "true",
      MODEL_CACHE_DIR: "/var/cache/models",
      MODEL_CACHE_MAX_BYTES: "1073741824",
      MODEL_MEMORY_BUDGET_BYTES: "8589934592",
      MODEL_STORE_TIMEOUT_MS: "2500",
    });
    expect(s3).toMatchObject({
      modelStore: {
        kind: "s3",
        bucket: "genart-models",
        prefix: "published/",
        endpoint: "http://127.0.0.1:9000",
        forcePathStyle: true,
      },
      modelCacheDir: "/var/cache/models",
      modelCacheMaxBytes: 2 ** 30,
      modelMemoryBudgetBytes: 8 * 2 ** 30,
      modelStoreTimeoutMs: 2_500,
    });
    expect(
      configFromEnv({ ...base, MODEL_STORE_URL: "https://models.example.com/genart/" }).modelStore,
    ).toEqual({ kind: "http", url: "https://models.example.com/genart/" });
  });

  it("names bad model tier variables", () => {
    let error: unknown;
    try {
      configFromEnv({
        ...base,
        MODEL_STORE_URL: "file:///srv/models",
        MODEL_MEMORY_BUDGET_BYTES: "lots",
        MODEL_CACHE_MAX_BYTES: "0",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ["MODEL_STORE_URL", "MODEL_MEMORY_BUDGET_BYTES", "MODEL_CACHE_MAX_BYTES"]) {
      expect(message).toContain(`  ${name}`);
    }
  });

  it("uses MODEL_DIR in place without a store, and a disk cache in front of one", async () => {
    const local = await createModelRepository(
      configFromEnv({ ...base, MODEL_DIR: join(dir, "models") }),
      logger,
    );
    expect(local).toBeInstanceOf(LocalModelStore);
    const cacheDir = join(dir, "cache");
    const remote = await createModelRepository(
      configFromEnv({
        ...base,
        MODEL_STORE_URL: "http://127.0.0.1:9/models/",
        MODEL_CACHE_DIR: cacheDir,
      }),
      logger,
    );
    expect(remote).toBeInstanceOf(TieredModelRepository);
    expect(remote.description).toBe("http://127.0.0.1:9/models/");
    expect(remote.diskStats?.()).toMatchObject({ dir: cacheDir, entries: 0, bytes: 0 });
    await remote.close?.();
  });

  it("pins WARM_MODELS, else every local model; a remote store pins none unless told", async () => {
    const empty = new LocalModelStore(join(dir, "no-models"));
    const named = configFromEnv({ ...base, WARM_MODELS: "a@1,b@2" });
    expect(await warmSetOf(named, empty)).toEqual(["a@1", "b@2"]);
    await expect(warmSetOf(configFromEnv(base), empty)).rejects.toThrow(/no models in MODEL_DIR/);
    const remote = configFromEnv({ ...base, MODEL_STORE_URL: "https://models.example.com/" });
    expect(await warmSetOf(remote, { list: async () => [] })).toEqual([]);
  });

  it("budgets half the machine's memory on CPU when no budget is set", async () => {
    const probe = new ProcessMemoryProbe();
    const cpu = configFromEnv({ ...base, ORT_EP: "cpu" });
    const budget = await memoryBudgetOf(cpu, probe);
    expect(budget).toBeGreaterThan(0);
    expect(budget).toBeLessThanOrEqual(totalmem() / 2);
    const set = configFromEnv({ ...base, MODEL_MEMORY_BUDGET_BYTES: "123456789" });
    expect(await memoryBudgetOf(set, probe)).toBe(123_456_789);
  });
});
