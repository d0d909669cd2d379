import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { z } from "zod";
import type { Heartbeat } from "../contracts/region-protocol.ts";
import { FsObjectStore } from "../storage/fs.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import { createS3Client, S3ObjectStore } from "../storage/s3.ts";
import {
  ConfigError,
  objectStoreOf,
  RegionNodeConfig,
  type RegionNodeConfigInput,
} from "./config.ts";
import { EventSender } from "./events/event-sender.ts";
import { HeartbeatSender } from "./events/heartbeat.ts";
import type { Fetch } from "./events/signed-post.ts";
import { createRegionApp } from "./http/app.ts";
import { JobIntake } from "./intake/job-intake.ts";
import { NodeLifecycle } from "./lifecycle.ts";
import { createLogger, type Logger } from "./log.ts";
import { ThroughputMeter } from "./metrics/throughput.ts";
import { ModelPool } from "./models/model-pool.ts";
import { LocalModelStore, type ModelStore } from "./models/model-store.ts";
import { PIPELINE_FACTORIES } from "./models/pipeline-factories.ts";
import { OrtSessionFactory, type SessionFactory } from "./models/session-factory.ts";
import { InProcessQueueBackend } from "./queue/in-process-backend.ts";
import { JobQueue, totalDepth } from "./queue/job-queue.ts";
import type { QueueBackend } from "./queue/queue-backend.ts";
import { Scheduler } from "./scheduler/scheduler.ts";

// Composes one regional node: object store, model pool, queue, scheduler, HTTP intake, heartbeat.
// startRegion resolves once the warm models are loaded and the node is serving.

/** Real alternatives for tests and other deployments; defaults come from the config. */
export interface RegionOverrides {
  objectStore?: ObjectStore;
  modelStore?: ModelStore;
  sessions?: SessionFactory;
  queueBackend?: QueueBackend;
  logger?: Logger;
  fetch?: Fetch;
}

export interface RunningRegion {
  /** Base URL of the node's HTTP server, e.g. http://127.0.0.1:8080. */
  url: string;
  name: string;
  nodeId: string;
  /** Drains (refuse new jobs, fail queued ones as retryable, finish running ones) and stops. */
  close(): Promise<void>;
}

function parseConfig(input: RegionNodeConfigInput): RegionNodeConfig {
  const parsed = RegionNodeConfig.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

function objectStoreFor(config: RegionNodeConfig): ObjectStore {
  const spec = objectStoreOf(config);
  if (spec.kind === "file") return new FsObjectStore(resolve(spec.dir));
  const client = createS3Client({
    forcePathStyle: spec.forcePathStyle,
    ...(spec.endpoint && { endpoint: spec.endpoint }),
    ...(spec.region && { region: spec.region }),
  });
  return new S3ObjectStore({ bucket: spec.bucket, prefix: spec.prefix, client });
}

async function listen(
  app: { fetch: (req: Request) => Response | Promise<Response> },
  host: string,
  port: number,
) {
  return new Promise<{ server: ReturnType<typeof serve>; port: number }>((done, fail) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) =>
      done({ server, port: info.port }),
    );
    server.once("error", fail);
  });
}

export async function startRegion(
  input: RegionNodeConfigInput,
  overrides: RegionOverrides = {},
): Promise<RunningRegion> {
  const config = parseConfig(input);
  const logger = (
    overrides.logger ??
    createLogger({ level: config.logLevel, bindings: { service: "regional-gpu" } })
  ).child({ region: config.regionName, node_id: config.nodeId });

  const lifecycle = new NodeLifecycle();
  const store = overrides.objectStore ?? objectStoreFor(config);
  const modelStore = overrides.modelStore ?? new LocalModelStore(resolve(config.modelDir));
  const pool = new ModelPool({
    store: modelStore,
    sessions:
      overrides.sessions ?? new OrtSessionFactory({ choice: config.executionProvider, logger }),
    pipelines: PIPELINE_FACTORIES,
    logger,
  });
  const queue = new JobQueue(
    overrides.queueBackend ?? new InProcessQueueBackend({ agingMs: config.queueAgingMs }),
    { maxDepth: config.maxQueueDepth },
  );
  const meter = new ThroughputMeter();
  const events = new EventSender({
    secret: config.signingSecret,
    logger,
    maxAttempts: config.eventMaxAttempts,
    baseDelayMs: config.eventRetryBaseMs,
    ...(overrides.fetch && { fetch: overrides.fetch }),
  });
  const scheduler = new Scheduler({
    region: config.regionName,
    queue,
    models: pool,
    store,
    events,
    meter,
    logger,
    maxBatch: config.maxBatch,
    maxBatchDelayMs: config.maxBatchDelayMs,
  });
  const intake = new JobIntake({
    region: config.regionName,
    queue,
    models: pool,
    meter,
    lifecycle,
    inFlight: () => scheduler.inFlight(),
  });
  const app = createRegionApp({
    region: config.regionName,
    nodeId: config.nodeId,
    secret: config.signingSecret,
    intake,
    store,
    lifecycle,
    logger,
    status: () => ({ warmModels: pool.loaded(), executionProvider: pool.executionProvider() }),
    simulatedRttMs: config.simulatedRttMs,
  });

  const snapshot = async (): Promise<Heartbeat> => ({
    region: config.regionName,
    node_id: config.nodeId,
    at: new Date().toISOString(),
    ready: lifecycle.ready,
    draining: lifecycle.draining,
    queue_depth: await queue.depth(),
    in_flight: scheduler.inFlight(),
    capacity: config.maxBatch,
    throughput_per_s: meter.perSecond(),
    warm_models: pool.loaded(),
    failure_rate: meter.failureRate(),
    execution_provider: pool.executionProvider(),
  });
  const heartbeat = config.edgeUrl
    ? new HeartbeatSender({
        edgeUrl: config.edgeUrl,
        region: config.regionName,
        secret: config.signingSecret,
        intervalMs: config.heartbeatIntervalMs,
        snapshot,
        logger,
        ...(overrides.fetch && { fetch: overrides.fetch }),
      })
    : null;

  // Listening first: /healthz answers (and /readyz says "starting") while the models load.
  const { server, port } = await listen(app, config.host, config.port);
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  const closeServer = () =>
    new Promise<void>((done) => {
      server.close(() => done());
      if ("closeIdleConnections" in server) server.closeIdleConnections();
      setTimeout(
        () => "closeAllConnections" in server && server.closeAllConnections(),
        1_000,
      ).unref();
    });

  try {
    const warm = config.warmModels ?? (await modelStore.list());
    if (warm.length === 0) {
      throw new ConfigError(`no models in MODEL_DIR ${resolve(config.modelDir)}; build one first`);
    }
    await pool.warm(warm);
  } catch (err) {
    await closeServer();
    await pool.close();
    throw err;
  }
  lifecycle.markReady();
  scheduler.start();
  heartbeat?.start();
  logger.info("region node ready", {
    url,
    warm_models: pool.loaded(),
    execution_provider: pool.executionProvider(),
  });

  let closing: Promise<void> | null = null;
  const drain = async () => {
    const started = Date.now();
    const left = () => Math.max(0, config.drainTimeoutMs - (Date.now() - started));
    lifecycle.beginDrain();
    logger.info("draining", {
      queued: totalDepth(await queue.depth()),
      in_flight: scheduler.inFlight(),
    });
    void heartbeat?.beat();
    const rerouted = await scheduler.failQueued("region node is draining; route the job elsewhere");
    const abandoned = await scheduler.stop(left());
    await events.close(Math.max(1_000, left()));
    await heartbeat?.stop();
    await closeServer();
    await pool.close();
    lifecycle.markStopped();
    logger.info("stopped", { rerouted, abandoned, drain_ms: Date.now() - started });
  };
  return {
    url,
    name: config.regionName,
    nodeId: config.nodeId,
    close: () => (closing ??= drain()),
  };
}
