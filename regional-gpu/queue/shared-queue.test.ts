import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ConfigError, configFromEnv } from "../config.ts";
import { createLogger } from "../log.ts";
import { redactRedisUrl, startSharedQueue } from "./shared-queue.ts";

// Configuring the shared queue, and starting it against a Redis that is not there.

const base = {
  REGION_NAME: "eu-west",
  REGION_SIGNING_KEY: "test:shared-queue-config-secretxxxxxx",
  EDGE_URL: "http://127.0.0.1:8787",
};

/** A loopback port nothing listens on (it was free a moment ago). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe("shared queue configuration", () => {
  it("takes REDIS_URL and the lock settings from the environment", () => {
    const config = configFromEnv({
      ...base,
      REDIS_URL: "rediss://default:pw@cache.example.internal:6380/0",
      QUEUE_LOCK_MS: "20000",
      QUEUE_STALLED_INTERVAL_MS: "7000",
      QUEUE_MAX_STALLED: "3",
    });
    expect(config).toMatchObject({
      redisUrl: "rediss://default:pw@cache.example.internal:6380/0",
      queueLockMs: 20_000,
      queueStalledIntervalMs: 7_000,
      queueMaxStalledCount: 3,
    });
    expect(configFromEnv(base)).toMatchObject({
      queueLockMs: 10_000,
      queueStalledIntervalMs: 5_000,
      queueMaxStalledCount: 1,
    });
    expect(configFromEnv(base).redisUrl).toBeUndefined();
  });

  it("names bad shared-queue variables", () => {
    const bad = () =>
      configFromEnv({ ...base, REDIS_URL: "http://cache:6379", QUEUE_LOCK_MS: "soon" });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/REDIS_URL/);
    expect(bad).toThrow(/QUEUE_LOCK_MS/);
  });

  it("keeps passwords out of logs", () => {
    expect(redactRedisUrl("redis://user:s3cret@host:6379/1")).toBe("redis://user:***@host:6379/1");
    expect(redactRedisUrl("redis://host:6379")).toBe("redis://host:6379");
  });

  it("fails to start, clearly and in time, when Redis does not answer", async () => {
    const port = await deadPort();
    const started = Date.now();
    const attempt = startSharedQueue({
      redisUrl: `redis://:hunter2@127.0.0.1:${port}`,
      region: "eu-west",
      nodeId: "n1",
      agingMs: 10_000,
      lockMs: 10_000,
      stalledIntervalMs: 5_000,
      maxStalledCount: 1,
      events: { send: async () => true },
      logger: createLogger({ level: "silent" }),
      connectTimeoutMs: 1_000,
    });
    await expect(attempt).rejects.toThrow(
      new RegExp(`Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} unreachable for 1000 ms`),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
