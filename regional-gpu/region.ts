import { signingKeyOf } from "../contracts/region-keys.ts";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { serve } from "@hono/node-server";
import { z } from "zod";
import { MAX_HELD_JOBS } from "../contracts/region-protocol.ts";
import { FsObjectStore } from "../storage/fs.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import { createS3Client, S3ObjectStore } from "../storage/s3.ts";
import {
  ConfigError,
  objectStoreOf,
  RegionNodeConfig,
  type RegionNodeConfigInput,
} from "./config.ts";
import { drainNode, type DrainReport } from "./drain/drain-node.ts";
import { EventSender } from "./events/event-sender.ts";
import { HeartbeatSender } from "./events/heartbeat.ts";
import { heldJobsOf } from "./queue/held-jobs.ts";
import type { Fetch } from "./events/signed-post.ts";
import { createRegionApp, createRegionOpsApp } from "./http/app.ts";
import { JobIntake } from "./intake/job-intake.ts";
import { NodeLifecycle } from "./lifecycle.ts";
import { WorkerSessionFactory } from "./inference/worker-sessions.ts";
import { createLogger, type Logger } from "./log.ts";
import { scalingPublisherFor } from "./metrics/cloudwatch-publisher.ts";
import { NodeMetrics } from "./metrics/node-metrics.ts";
import { heartbeatOf, NodeStatusSource, type NodeStatus } from "./metrics/node-status.ts";
import { ThroughputMeter } from "./metrics/throughput.ts";
import { createModelPool, warmSetOf } from "./models/create-model-pool.ts";
import { OutputGate } from "./moderation/output-gate.ts";
import type { OutputModerator } from "./moderation/output-moderator.ts";
import { acquireModerator } from "./moderation/shared-moderator.ts";
import type { ModelRepository } from "./models/model-repository.ts";
import type { SessionFactory } from "./models/session-factory.ts";
import { InProcessQueueBackend } from "./queue/in-process-backend.ts";
import { JobQueue } from "./queue/job-queue.ts";
import type { QueueBackend } from "./queue/queue-backend.ts";
import { sharedQueueFor } from "./queue/shared-queue.ts";
import { BatchPolicy } from "./scheduler/batch-policy.ts";
import { Scheduler } from "./scheduler/scheduler.ts";

// Composes one regional node: object store, model pool, queue, scheduler, HTTP intake, heartbeat.
// startRegion resolves once the warm models are loaded and the node is serving.

/** Real alternatives for tests and other deployments; defaults come from the config. */
export interface RegionOverrides {
  objectStore?: ObjectStore;
  /** Below the hot tier: replaces MODEL_STORE_URL's disk cache + store, or MODEL_DIR. */
  modelStore?: ModelRepository;
  sessions?: SessionFactory;
  queueBackend?: QueueBackend;
  logger?: Logger;
  fetch?: Fetch;
  /** Replaces the output moderator this process's nodes share (ONNX classifiers, own executor). */
  moderator?: OutputModerator;
  /** Where scaling metrics go when METRICS_NAMESPACE is set (default: the AWS SDK's chains). */
  cloudWatch?: Pick<CloudWatchClient, "send">;
}

export interface RunningRegion {
  /** Base URL of the node's HTTP server, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Base URL of its operational endpoints (/metrics, /status), e.g. http://127.0.0.1:9464. */
  opsUrl: string;
  name: string;
  nodeId: string;
  /**
   * Drains (refuse new jobs, hand back queued ones, finish running ones) and stops, within
   * DRAIN_TIMEOUT_MS; regional-gpu/drain/drain-node.ts.
   */
  close(): Promise<DrainReport>;
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
  // Sessions run on an executor thread: session.run is synchronous and would stall the event loop.
  const executor = overrides.sessions
    ? null
    : new WorkerSessionFactory({ choice: config.executionProvider, logger });
  const pool = await createModelPool(config, {
    logger,
    ...(overrides.modelStore && { repository: overrides.modelStore }),
    sessions: overrides.sessions ?? executor!,
  });
  const meter = new ThroughputMeter();
  const keys = { current: config.signingKey, previous: config.previousSigningKey };
  const events = new EventSender({
    signingKey: signingKeyOf(keys),
    ...(config.edgeUrl && { edge: { url: config.edgeUrl, region: config.regionName } }),
    logger,
    maxAttempts: config.eventMaxAttempts,
    baseDelayMs: config.eventRetryBaseMs,
    ...(overrides.fetch && { fetch: overrides.fetch }),
  });
  // REDIS_URL: the region's nodes share one queue, and job outcomes are recorded there first.
  const shared = overrides.queueBackend
    ? null
    : await sharedQueueFor(config, events, logger).catch(async (err: unknown) => {
        await pool.close();
        await executor?.close();
        throw err;
      });
  const queue = new JobQueue(
    overrides.queueBackend ??
      shared?.backend ??
      new InProcessQueueBackend({ agingMs: config.queueAgingMs }),
    { maxDepth: config.maxQueueDepth },
  );
  const batching = new BatchPolicy({
    ...(config.maxBatch !== undefined && { maxBatch: config.maxBatch }),
    ...(config.maxBatchDelayMs !== undefined && { maxBatchDelayMs: config.maxBatchDelayMs }),
  });
  const metrics: NodeMetrics = new NodeMetrics({
    region: config.regionName,
    nodeId: config.nodeId,
    status: (): Promise<NodeStatus> => nodeStatus.read(),
    processMetrics: true,
  });
  metrics.watchModelPool(pool.events);
  // Every output is moderated before it is stored; the classifiers load beside the warm models.
  const outputs = new OutputGate({
    store,
    ...(overrides.moderator && { moderator: overrides.moderator }),
  });
  const scheduler: Scheduler = new Scheduler({
    region: config.regionName,
    queue,
    models: pool,
    store,
    events: shared?.events ?? events,
    meter,
    logger,
    batching,
    observer: metrics,
    outputs,
  });
  const nodeStatus: NodeStatusSource = new NodeStatusSource({
    lifecycle,
    queue,
    meter,
    batching,
    inFlight: (): number => scheduler.inFlight(),
    models: () => ({ warmModels: pool.loaded(), executionProvider: pool.executionProvider() }),
  });
  const intake = new JobIntake({
    region: config.regionName,
    queue,
    models: pool,
    meter,
    lifecycle,
    inFlight: () => scheduler.inFlight(),
    holder: queue.canRelease ? null : config.nodeId,
  });
  const app = createRegionApp({
    region: config.regionName,
    nodeId: config.nodeId,
    keys,
    intake,
    models: pool,
    store,
    lifecycle,
    logger,
    status: () => ({ warmModels: pool.loaded(), executionProvider: pool.executionProvider() }),
    simulatedRttMs: config.simulatedRttMs,
    metrics,
  });

  const publisher = scalingPublisherFor({
    config,
    status: () => nodeStatus.read(),
    shared,
    logger,
    ...(overrides.cloudWatch && { client: overrides.cloudWatch }),
  });

  const node = { region: config.regionName, nodeId: config.nodeId };
  // Every heartbeat renews the edge's leases on the jobs this node (or its region's queue) holds.
  const snapshot = async () => ({
    ...heartbeatOf(await nodeStatus.read(), node),
    holds: heldJobsOf(await queue.heldJobs(MAX_HELD_JOBS), events.pendingJobs()),
  });
  const heartbeat = config.edgeUrl
    ? new HeartbeatSender({
        edgeUrl: config.edgeUrl,
        region: config.regionName,
        signingKey: signingKeyOf(keys),
        intervalMs: config.heartbeatIntervalMs,
        snapshot,
        logger,
        ...(overrides.fetch && { fetch: overrides.fetch }),
      })
    : null;

  const opsApp = createRegionOpsApp({
    region: config.regionName,
    nodeId: config.nodeId,
    lifecycle,
    logger,
    status: () => ({ warmModels: pool.loaded(), executionProvider: pool.executionProvider() }),
    metrics,
  });

  // Listening first: /healthz answers (and /readyz says "starting") while the models load.
  const { server, port } = await listen(app, config.host, config.port);
  const ops = await listen(opsApp, config.opsHost, config.opsPort).catch(async (err: unknown) => {
    server.close();
    throw err;
  });
  const urlOf = (host: string, p: number) =>
    `http://${host.includes(":") ? `[${host}]` : host}:${p}`;
  const url = urlOf(config.host, port);
  const opsUrl = urlOf(config.opsHost, ops.port);
  const closeOne = (s: typeof server) =>
    new Promise<void>((done) => {
      s.close(() => done());
      if ("closeIdleConnections" in s) s.closeIdleConnections();
      setTimeout(() => "closeAllConnections" in s && s.closeAllConnections(), 1_000).unref();
    });
  const closeServer = async () => {
    await Promise.all([closeOne(server), closeOne(ops.server)]);
  };

  const moderation = overrides.moderator
    ? null
    : acquireModerator({
        screenModel: config.moderationModel,
        confirmModel:
          config.moderationConfirmModel === "none" ? null : config.moderationConfirmModel,
        executionProvider: config.executionProvider,
        dir: resolve(config.moderationModelDir),
        logger,
      });
  try {
    await Promise.all([
      pool.warm(await warmSetOf(config, pool.repository)),
      moderation?.then((lease) => outputs.attach(lease.moderator)),
    ]);
  } catch (err) {
    moderation?.then((lease) => lease.release()).catch(() => {});
    await closeServer();
    await pool.close();
    await executor?.close();
    await queue.close();
    throw err;
  }
  const limits = batching.resolve(pool.executionProvider());
  lifecycle.markReady();
  scheduler.start();
  heartbeat?.start();
  publisher?.start();
  logger.info("region node ready", {
    url,
    ops_url: opsUrl,
    warm_models: pool.loaded(),
    execution_provider: pool.executionProvider(),
    max_batch: limits.maxBatch,
    max_batch_delay_ms: limits.maxBatchDelayMs,
    batch_limits: batching.source,
  });

  let closing: Promise<DrainReport> | null = null;
  const drain = async () => {
    // A draining node stops sending scaling figures at once (and hands the region's over).
    await publisher?.stop();
    const report = await drainNode({
      lifecycle,
      queue,
      scheduler,
      flushEvents: (timeoutMs) => events.close(timeoutMs),
      heartbeat,
      closeServer,
      closeModels: async () => {
        await pool.close();
        await executor?.close();
      },
      executorBusy: () => executor?.busy() ?? false,
      logger,
      timeoutMs: config.drainTimeoutMs,
    });
    await queue.close();
    (await moderation)?.release();
    return report;
  };
  return {
    url,
    opsUrl,
    name: config.regionName,
    nodeId: config.nodeId,
    close: () => (closing ??= drain()),
  };
}
