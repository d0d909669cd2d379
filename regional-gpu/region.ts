import { signingKeyOf, type RegionKeySet } from "../contracts/region-keys.ts";
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
import type { ModelPool } from "./models/model-pool.ts";
import { OutputGate } from "./moderation/output-gate.ts";
import type { OutputModerator } from "./moderation/output-moderator.ts";
import { acquireModerator, type ModeratorLease } from "./moderation/shared-moderator.ts";
import type { ModelRepository } from "./models/model-repository.ts";
import type { SessionFactory } from "./models/session-factory.ts";
import { InProcessQueueBackend } from "./queue/in-process-backend.ts";
import { JobQueue } from "./queue/job-queue.ts";
import type { QueueBackend } from "./queue/queue-backend.ts";
import { sharedQueueFor, type SharedQueue } from "./queue/shared-queue.ts";
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

type NodeServer = ReturnType<typeof serve>;

const urlOf = (host: string, port: number) =>
  `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

function closeGracefully(server: NodeServer): Promise<void> {
  return new Promise<void>((done) => {
    server.close(() => done());
    if ("closeIdleConnections" in server) server.closeIdleConnections();
    setTimeout(
      () => "closeAllConnections" in server && server.closeAllConnections(),
      1_000,
    ).unref();
  });
}

/** What the node reports as loaded, to /status and to its heartbeats. */
const modelsStatusOf = (pool: ModelPool) => ({
  warmModels: pool.loaded(),
  executionProvider: pool.executionProvider(),
});

function nodeLoggerFor(config: RegionNodeConfig, overrides: RegionOverrides): Logger {
  return (
    overrides.logger ??
    createLogger({ level: config.logLevel, bindings: { service: "regional-gpu" } })
  ).child({ region: config.regionName, node_id: config.nodeId });
}

interface NodeModels {
  pool: ModelPool;
  /** The thread the pool's sessions run on; null when overrides.sessions replaces it. */
  executor: WorkerSessionFactory | null;
}

async function openModels(
  config: RegionNodeConfig,
  overrides: RegionOverrides,
  logger: Logger,
): Promise<NodeModels> {
  // Sessions run on an executor thread: session.run is synchronous and would stall the event loop.
  const executor = overrides.sessions
    ? null
    : new WorkerSessionFactory({ choice: config.executionProvider, logger });
  const pool = await createModelPool(config, {
    logger,
    ...(overrides.modelStore && { repository: overrides.modelStore }),
    sessions: overrides.sessions ?? executor!,
  }).catch(async (err: unknown) => {
    await executor?.close();
    throw err;
  });
  return { pool, executor };
}

async function closeModels({ pool, executor }: NodeModels): Promise<void> {
  await pool.close();
  await executor?.close();
}

interface NodeJobs {
  events: EventSender;
  /** The region's shared queue (REDIS_URL), else null. */
  shared: SharedQueue | null;
  queue: JobQueue;
}

/**
 * Where jobs wait and where their outcomes go. The models are the only thing open yet: they are
 * closed if the shared queue cannot start.
 */
async function openJobQueue(
  config: RegionNodeConfig,
  overrides: RegionOverrides,
  keys: RegionKeySet,
  logger: Logger,
  models: NodeModels,
): Promise<NodeJobs> {
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
        await closeModels(models);
        throw err;
      });
  const queue = new JobQueue(
    overrides.queueBackend ??
      shared?.backend ??
      new InProcessQueueBackend({ agingMs: config.queueAgingMs }),
    { maxDepth: config.maxQueueDepth },
  );
  return { events, shared, queue };
}

interface SchedulingParts {
  config: RegionNodeConfig;
  overrides: RegionOverrides;
  lifecycle: NodeLifecycle;
  store: ObjectStore;
  models: NodeModels;
  jobs: NodeJobs;
  meter: ThroughputMeter;
  logger: Logger;
}

/** The scheduler that runs queued jobs in batches, and the status and metrics that watch it. */
function buildScheduling(parts: SchedulingParts) {
  const { config, overrides, lifecycle, store, meter, logger } = parts;
  const { pool } = parts.models;
  const { events, shared, queue } = parts.jobs;
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
    models: () => modelsStatusOf(pool),
  });
  return { batching, metrics, outputs, scheduler, nodeStatus };
}

type Scheduling = ReturnType<typeof buildScheduling>;

interface AppParts {
  config: RegionNodeConfig;
  keys: RegionKeySet;
  lifecycle: NodeLifecycle;
  store: ObjectStore;
  models: NodeModels;
  jobs: NodeJobs;
  meter: ThroughputMeter;
  scheduling: Scheduling;
  logger: Logger;
}

/** The public app (job intake, models, objects) and the ops app (/metrics, /status). */
function buildApps(parts: AppParts) {
  const { config, keys, lifecycle, store, meter, logger } = parts;
  const { pool } = parts.models;
  const { queue } = parts.jobs;
  const { scheduler, metrics } = parts.scheduling;
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
    status: () => modelsStatusOf(pool),
    simulatedRttMs: config.simulatedRttMs,
    metrics,
  });
  const opsApp = createRegionOpsApp({
    region: config.regionName,
    nodeId: config.nodeId,
    lifecycle,
    logger,
    status: () => modelsStatusOf(pool),
    metrics,
  });
  return { app, opsApp };
}

interface ReporterParts {
  config: RegionNodeConfig;
  overrides: RegionOverrides;
  keys: RegionKeySet;
  jobs: NodeJobs;
  scheduling: Scheduling;
  logger: Logger;
}

/** Heartbeats to the edge (EDGE_URL) and scaling metrics to CloudWatch (METRICS_NAMESPACE). */
function buildReporters(parts: ReporterParts) {
  const { config, overrides, keys, logger } = parts;
  const { events, shared, queue } = parts.jobs;
  const { nodeStatus } = parts.scheduling;
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
  return { publisher, heartbeat };
}

type Reporters = ReturnType<typeof buildReporters>;

interface NodeServers {
  url: string;
  opsUrl: string;
  close(): Promise<void>;
}

/** Listens on the public port, then the ops port; the first closes if the second cannot listen. */
async function serveApps(
  config: RegionNodeConfig,
  { app, opsApp }: ReturnType<typeof buildApps>,
): Promise<NodeServers> {
  const { server, port } = await listen(app, config.host, config.port);
  const ops = await listen(opsApp, config.opsHost, config.opsPort).catch(async (err: unknown) => {
    await closeGracefully(server);
    throw err;
  });
  return {
    url: urlOf(config.host, port),
    opsUrl: urlOf(config.opsHost, ops.port),
    close: async () => {
      await Promise.all([closeGracefully(server), closeGracefully(ops.server)]);
    },
  };
}

/** A lease on the output moderator this process's nodes share; null when overrides replace it. */
function leaseModerator(
  config: RegionNodeConfig,
  overrides: RegionOverrides,
  logger: Logger,
): Promise<ModeratorLease> | null {
  return overrides.moderator
    ? null
    : acquireModerator({
        screenModel: config.moderationModel,
        confirmModel:
          config.moderationConfirmModel === "none" ? null : config.moderationConfirmModel,
        executionProvider: config.executionProvider,
        dir: resolve(config.moderationModelDir),
        logger,
      });
}

interface WarmParts {
  config: RegionNodeConfig;
  models: NodeModels;
  jobs: NodeJobs;
  scheduling: Scheduling;
  moderation: Promise<ModeratorLease> | null;
  servers: NodeServers;
}

/** Loads the warm models and the moderator; if either fails, closes all the node opened. */
async function warmUp(parts: WarmParts): Promise<void> {
  const { config, models, moderation, servers } = parts;
  const { outputs } = parts.scheduling;
  try {
    await Promise.all([
      models.pool.warm(await warmSetOf(config, models.pool.repository)),
      moderation?.then((lease) => outputs.attach(lease.moderator)),
    ]);
  } catch (err) {
    moderation?.then((lease) => lease.release()).catch(() => {});
    await servers.close();
    await closeModels(models);
    await parts.jobs.queue.close();
    throw err;
  }
}

interface LiveParts {
  lifecycle: NodeLifecycle;
  models: NodeModels;
  scheduling: Scheduling;
  reporters: Reporters;
  servers: NodeServers;
  logger: Logger;
}

/** Marks the node ready and starts its scheduler, heartbeats and scaling metrics. */
function goLive({ lifecycle, models, scheduling, reporters, servers, logger }: LiveParts): void {
  const { pool } = models;
  const { batching, scheduler } = scheduling;
  const limits = batching.resolve(pool.executionProvider());
  lifecycle.markReady();
  scheduler.start();
  reporters.heartbeat?.start();
  reporters.publisher?.start();
  logger.info("region node ready", {
    url: servers.url,
    ops_url: servers.opsUrl,
    warm_models: pool.loaded(),
    execution_provider: pool.executionProvider(),
    max_batch: limits.maxBatch,
    max_batch_delay_ms: limits.maxBatchDelayMs,
    batch_limits: batching.source,
  });
}

interface StopParts {
  config: RegionNodeConfig;
  lifecycle: NodeLifecycle;
  models: NodeModels;
  jobs: NodeJobs;
  scheduling: Scheduling;
  reporters: Reporters;
  servers: NodeServers;
  moderation: Promise<ModeratorLease> | null;
  logger: Logger;
}

/** The stop sequence: scaling metrics stop, the node drains, then its queue and moderator close. */
async function stopNode(parts: StopParts): Promise<DrainReport> {
  const { config, lifecycle, models, jobs, reporters, servers, logger } = parts;
  // A draining node stops sending scaling figures at once (and hands the region's over).
  await reporters.publisher?.stop();
  const report = await drainNode({
    lifecycle,
    queue: jobs.queue,
    scheduler: parts.scheduling.scheduler,
    flushEvents: (timeoutMs) => jobs.events.close(timeoutMs),
    heartbeat: reporters.heartbeat,
    closeServer: servers.close,
    closeModels: () => closeModels(models),
    executorBusy: () => models.executor?.busy() ?? false,
    logger,
    timeoutMs: config.drainTimeoutMs,
  });
  await jobs.queue.close();
  (await parts.moderation)?.release();
  return report;
}

export async function startRegion(
  input: RegionNodeConfigInput,
  overrides: RegionOverrides = {},
): Promise<RunningRegion> {
  const config = parseConfig(input);
  const logger = nodeLoggerFor(config, overrides);
  const lifecycle = new NodeLifecycle();
  const store = overrides.objectStore ?? objectStoreFor(config);
  const models = await openModels(config, overrides, logger);
  const meter = new ThroughputMeter();
  const keys = { current: config.signingKey, previous: config.previousSigningKey };
  const jobs = await openJobQueue(config, overrides, keys, logger, models);
  const node = { config, lifecycle, models, jobs, logger };
  const scheduling = buildScheduling({ ...node, overrides, store, meter });
  const apps = buildApps({ ...node, keys, store, meter, scheduling });
  const reporters = buildReporters({ ...node, overrides, keys, scheduling });

  // Listening first: /healthz answers (and /readyz says "starting") while the models load.
  const servers = await serveApps(config, apps).catch(async (err: unknown) => {
    // A port taken: nothing else may stay open (the models' thread, the shared queue's Redis).
    await closeModels(models);
    await jobs.queue.close();
    throw err;
  });
  const moderation = leaseModerator(config, overrides, logger);
  await warmUp({ ...node, scheduling, moderation, servers });
  goLive({ ...node, scheduling, reporters, servers });

  let closing: Promise<DrainReport> | null = null;
  return {
    url: servers.url,
    opsUrl: servers.opsUrl,
    name: config.regionName,
    nodeId: config.nodeId,
    close: () => (closing ??= stopNode({ ...node, scheduling, reporters, servers, moderation })),
  };
}
