import { describe, expect, it } from "vitest";
import { ConfigError, configFromEnv, objectStoreOf } from "./config.ts";

const base = {
  REGION_NAME: "eu-west",
  REGION_SIGNING_KEY: "test:0123456789abcdefxxxxxxxxxxxxxxxx",
  EDGE_URL: "http://127.0.0.1:8787",
};

describe("configFromEnv", () => {
  it("fills the documented defaults", () => {
    const config = configFromEnv(base);
    expect(config).toMatchObject({
      regionName: "eu-west",
      port: 8080,
      host: "127.0.0.1",
      modelDir: ".data/models",
      executionProvider: "auto",
      simulatedRttMs: 0,
      heartbeatIntervalMs: 2_000,
    });
    // Batch limits default per execution provider, once the models are loaded.
    expect(config.maxBatch).toBeUndefined();
    expect(config.maxBatchDelayMs).toBeUndefined();
    expect(config.edgeUrl).toBe("http://127.0.0.1:8787");
    expect(config.signingKey).toEqual({ id: "test", secret: "0123456789abcdefxxxxxxxxxxxxxxxx" });
    expect(config.previousSigningKey).toBeUndefined();
    expect(config.warmModels).toBeUndefined();
    expect(objectStoreOf(config)).toEqual({ kind: "file", dir: ".data/regions/eu-west/objects" });
  });

  it("reads every variable", () => {
    const config = configFromEnv({
      ...base,
      PORT: "0",
      HOST: "0.0.0.0",
      EDGE_URL: "http://127.0.0.1:8787",
      MODEL_DIR: "/models",
      ORT_EP: "cuda",
      SIMULATED_RTT_MS: "120",
      MAX_BATCH: "8",
      MAX_BATCH_DELAY_MS: "15",
      HEARTBEAT_INTERVAL_MS: "500",
      WARM_MODELS: "cppn-glove@2026-11-27.1, other@v2",
      OBJECT_STORE: "s3://genart-eu/outputs/",
      S3_ENDPOINT: "http://127.0.0.1:9000",
      S3_REGION: "eu-west-1",
      S3_FORCE_PATH_STYLE: "true",
    });
    expect(config).toMatchObject({
      port: 0,
      host: "0.0.0.0",
      edgeUrl: "http://127.0.0.1:8787",
      executionProvider: "cuda",
      simulatedRttMs: 120,
      maxBatch: 8,
      maxBatchDelayMs: 15,
      heartbeatIntervalMs: 500,
      warmModels: ["cppn-glove@2026-11-27.1", "other@v2"],
      objectStore: {
        kind: "s3",
        bucket: "genart-eu",
        prefix: "outputs/",
        endpoint: "http://127.0.0.1:9000",
        region: "eu-west-1",
        forcePathStyle: true,
      },
    });
    expect(configFromEnv({ ...base, OBJECT_STORE: "file:///srv/objects" }).objectStore).toEqual({
      kind: "file",
      dir: "/srv/objects",
    });
  });

  it("names every bad variable in one ConfigError", () => {
    let error: unknown;
    try {
      configFromEnv({
        REGION_NAME: "EU West",
        PORT: "eighty",
        ORT_EP: "tpu",
        OBJECT_STORE: "ftp://x",
        WARM_MODELS: "no-version",
        EDGE_URL: "not a url",
        REGION_SIGNING_SECRET: "the-old-shared-secret",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of [
      "REGION_NAME",
      "PORT",
      "ORT_EP",
      "OBJECT_STORE",
      "WARM_MODELS",
      "EDGE_URL",
    ]) {
      expect(message).toContain(`  ${name}: `);
    }
    expect(message).toContain("REGION_SIGNING_KEY: is required");
    expect(message).toContain("REGION_SIGNING_SECRET: no longer read");
  });

  it("requires EDGE_URL (events go to the configured edge only) and a key with an id", () => {
    const { EDGE_URL: _edge, ...withoutEdge } = base;
    expect(() => configFromEnv(withoutEdge)).toThrow(/EDGE_URL: is required/);
    expect(() => configFromEnv({ ...base, REGION_SIGNING_KEY: "no-id-and-short" })).toThrow(
      /REGION_SIGNING_KEY: must be <key id>:<secret>/,
    );
    const rotating = configFromEnv({
      ...base,
      REGION_SIGNING_KEY_PREVIOUS: "old:abcdefghijklmnopqrstuvwxyz0123456789",
    });
    expect(rotating.previousSigningKey).toEqual({
      id: "old",
      secret: "abcdefghijklmnopqrstuvwxyz0123456789",
    });
  });
});
