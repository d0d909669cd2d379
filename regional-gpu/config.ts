import { hostname } from "node:os";
import { z } from "zod";
import { SigningKeyInput, SigningKeyText } from "../contracts/region-keys.ts";
import { RegionName } from "../contracts/region-protocol.ts";
import { ClassifierModel } from "./moderation/classifier-options.ts";

// The regional node's configuration: RegionNodeConfig is what startRegion takes (in-process callers
// build it directly); configFromEnv maps the process environment onto it.

export const ExecutionProviderChoice = z.enum(["cpu", "cuda", "auto"]);
export type ExecutionProviderChoice = z.infer<typeof ExecutionProviderChoice>;

/** `name@version`, as WARM_MODELS lists models and the pool keys its sessions. */
export const ModelRef = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}@[A-Za-z0-9._-]{1,64}$/, {
  message: "must be name@version",
});

export const ObjectStoreConfig = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("file"), dir: z.string().min(1) }),
  z.strictObject({
    kind: z.literal("s3"),
    bucket: z.string().min(3),
    prefix: z.string().default(""),
    endpoint: z.url().optional(),
    region: z.string().optional(),
    forcePathStyle: z.boolean().default(false),
  }),
]);
export type ObjectStoreConfig = z.infer<typeof ObjectStoreConfig>;

/** The model pool's cold tier: an S3 bucket (S3_* as for OBJECT_STORE) or an HTTP(S) base URL. */
export const ModelStoreConfig = z.discriminatedUnion("kind", [
  ObjectStoreConfig.options[1],
  z.strictObject({ kind: z.literal("http"), url: z.url({ protocol: /^https?$/ }) }),
]);
export type ModelStoreConfig = z.infer<typeof ModelStoreConfig>;

const ms = (max: number) => z.number().int().min(0).max(max);

const RegionNodeFields = z.strictObject({
  regionName: RegionName,
  nodeId: z
    .string()
    .min(1)
    .default(() => `${hostname()}-${process.pid}`),
  port: z.number().int().min(0).max(65_535).default(8080),
  host: z.string().min(1).default("127.0.0.1"),
  /**
   * The operational port (/metrics, /status): never the load balancer's, so the internet cannot
   * read them; open it to the region's network only (Terraform: the VPC). 0: any free port (the
   * in-process default; from the environment the default is 9464).
   */
  opsPort: z.number().int().min(0).max(65_535).default(0),
  opsHost: z.string().min(1).default("127.0.0.1"),
  /** This region's HMAC key with the edge, `<key id>:<secret>` (contracts/region-keys.ts). */
  signingKey: SigningKeyInput,
  /** The key being retired during a rotation: signed with while set, accepted with signingKey. */
  previousSigningKey: SigningKeyInput.optional(),
  /**
   * The edge: heartbeats and every job event go there, whatever callback a job names. Required
   * from the environment (configFromEnv); in process, absent means events go to each job's
   * callback_url (tests of a node without an edge).
   */
  edgeUrl: z.url({ protocol: /^https?$/ }).optional(),
  modelDir: z.string().min(1).default(".data/models"),
  /** Default: a folder per region under .data/regions/. */
  objectStore: ObjectStoreConfig.optional(),
  executionProvider: ExecutionProviderChoice.default("auto"),
  simulatedRttMs: ms(10_000).default(0),
  /** Absent: the measured default of the execution provider (scheduler/batch-policy.ts). */
  maxBatch: z.number().int().min(1).max(256).optional(),
  maxBatchDelayMs: ms(10_000).optional(),
  /** Queued jobs (all lanes) above which intake answers 429. */
  maxQueueDepth: z.number().int().min(1).default(256),
  /** A waiting job is promoted one lane per this many ms, so relax is never starved. */
  queueAgingMs: z.number().int().min(1).default(10_000),
  /** Set: the region's nodes share one BullMQ queue on this Redis (queue/shared-queue.ts). */
  redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
  /** Shared queue: a fetched job is this node's for this long without renewal (renewed at half). */
  queueLockMs: z.number().int().min(100).max(600_000).default(10_000),
  /** Shared queue: how often each node looks for jobs of dead nodes (lock expired). */
  queueStalledIntervalMs: z.number().int().min(100).max(600_000).default(5_000),
  /** Shared queue: recoveries of one job before it fails `node_lost` rather than run again. */
  queueMaxStalledCount: z.number().int().min(0).max(100).default(1),
  heartbeatIntervalMs: z.number().int().min(100).default(2_000),
  /** Absent: every model in modelDir. */
  warmModels: z.array(ModelRef).optional(),
  /** Where model versions are published (MODEL_STORE_URL); absent: modelDir, read in place. */
  modelStore: ModelStoreConfig.optional(),
  /** Disk tier in front of modelStore; default .data/regions/<name>/model-cache. */
  modelCacheDir: z.string().min(1).optional(),
  modelCacheMaxBytes: z
    .number()
    .int()
    .min(1)
    .default(20 * 2 ** 30),
  /** Bytes hot models may hold on their device; absent: a share of it (models/create-model-pool.ts). */
  modelMemoryBudgetBytes: z.number().int().min(1).optional(),
  /** A model store request that makes no progress for this long fails. */
  modelStoreTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  /** Output moderation: the classifier that screens every image (ONNX, on executionProvider). */
  moderationModel: ClassifierModel.default("MobileNetV2Mid"),
  /** The classifier that re-judges the screen's flags (policy permitting); "none": the screen decides. */
  moderationConfirmModel: z.union([ClassifierModel, z.literal("none")]).default("InceptionV3"),
  /** Where the classifiers converted from nsfwjs's bundled weights are cached. */
  moderationModelDir: z.string().min(1).default(".data/classifiers"),
  /** How long a drain waits for in-flight jobs and event deliveries. */
  drainTimeoutMs: ms(600_000).default(30_000),
  eventMaxAttempts: z.number().int().min(1).max(50).default(10),
  eventRetryBaseMs: z.number().int().min(1).default(250),
  logLevel: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /** CloudWatch namespace of the scaling signals (set by Terraform); absent: not published. */
  metricsNamespace: z
    .string()
    .regex(/^[A-Za-z0-9._/#:-]{1,255}$/, "must be a CloudWatch namespace")
    .refine((ns) => !ns.startsWith("AWS/"), "must be a custom namespace, not AWS/...")
    .optional(),
  /** Auto Scaling groups the signals are published for (dimension AutoScalingGroupName). */
  scalingGroupNames: z.array(z.string().min(1).max(255)).optional(),
  /** How often the signals are sampled; each 60-s policy period carries its samples. */
  metricsSampleMs: z
    .number()
    .int()
    .min(1_000)
    .max(60_000)
    .refine((ms) => 60_000 % ms === 0, "must divide 60000 (the scaling policies' period)")
    .default(15_000),
});

export const RegionNodeConfig = RegionNodeFields.superRefine((config, ctx) => {
  if (config.metricsNamespace && !config.scalingGroupNames?.length) {
    ctx.addIssue({
      code: "custom",
      path: ["scalingGroupNames"],
      message: "is required when METRICS_NAMESPACE is set",
    });
  }
});
export type RegionNodeConfig = z.infer<typeof RegionNodeConfig>;
export type RegionNodeConfigInput = z.input<typeof RegionNodeConfig>;

export function objectStoreOf(config: RegionNodeConfig): ObjectStoreConfig {
  return config.objectStore ?? { kind: "file", dir: `.data/regions/${config.regionName}/objects` };
}

const ENV_NAME_OF = {
  regionName: "REGION_NAME",
  nodeId: "NODE_ID",
  port: "PORT",
  host: "HOST",
  opsPort: "OPS_PORT",
  opsHost: "OPS_HOST",
  signingKey: "REGION_SIGNING_KEY",
  previousSigningKey: "REGION_SIGNING_KEY_PREVIOUS",
  edgeUrl: "EDGE_URL",
  modelDir: "MODEL_DIR",
  objectStore: "OBJECT_STORE",
  executionProvider: "ORT_EP",
  simulatedRttMs: "SIMULATED_RTT_MS",
  maxBatch: "MAX_BATCH",
  maxBatchDelayMs: "MAX_BATCH_DELAY_MS",
  maxQueueDepth: "MAX_QUEUE_DEPTH",
  queueAgingMs: "QUEUE_AGING_MS",
  redisUrl: "REDIS_URL",
  queueLockMs: "QUEUE_LOCK_MS",
  queueStalledIntervalMs: "QUEUE_STALLED_INTERVAL_MS",
  queueMaxStalledCount: "QUEUE_MAX_STALLED",
  heartbeatIntervalMs: "HEARTBEAT_INTERVAL_MS",
  warmModels: "WARM_MODELS",
  modelStore: "MODEL_STORE_URL",
  modelCacheDir: "MODEL_CACHE_DIR",
  modelCacheMaxBytes: "MODEL_CACHE_MAX_BYTES",
  modelMemoryBudgetBytes: "MODEL_MEMORY_BUDGET_BYTES",
  modelStoreTimeoutMs: "MODEL_STORE_TIMEOUT_MS",
  moderationModel: "MODERATION_MODEL",
  moderationConfirmModel: "MODERATION_CONFIRM_MODEL",
  moderationModelDir: "MODERATION_MODEL_DIR",
  drainTimeoutMs: "DRAIN_TIMEOUT_MS",
  eventMaxAttempts: "EVENT_MAX_ATTEMPTS",
  eventRetryBaseMs: "EVENT_RETRY_BASE_MS",
  logLevel: "LOG_LEVEL",
  metricsNamespace: "METRICS_NAMESPACE",
  scalingGroupNames: "SCALING_GROUP_NAMES",
  metricsSampleMs: "METRICS_SAMPLE_MS",
} as const satisfies Record<keyof RegionNodeConfig, string>;

const NUMERIC = new Set<string>([
  "modelCacheMaxBytes",
  "modelMemoryBudgetBytes",
  "modelStoreTimeoutMs",
  "port",
  "opsPort",
  "simulatedRttMs",
  "maxBatch",
  "maxBatchDelayMs",
  "maxQueueDepth",
  "queueAgingMs",
  "queueLockMs",
  "queueStalledIntervalMs",
  "queueMaxStalledCount",
  "heartbeatIntervalMs",
  "drainTimeoutMs",
  "eventMaxAttempts",
  "eventRetryBaseMs",
  "metricsSampleMs",
]);

/** OPS_PORT when unset: Prometheus exporters' customary range. */
export const DEFAULT_OPS_PORT = 9464;

export class ConfigError extends Error {
  readonly code = "invalid_config";
  override readonly name = "ConfigError";
}

const OBJECT_STORE_FORMS = "must be file://<dir> or s3://<bucket>/<prefix>";

/** `file://<dir>` or `s3://bucket/prefix` (S3_* variables complete the latter). */
function parseObjectStore(url: string, env: Record<string, string | undefined>): unknown {
  const file = /^file:\/\/(.+)$/.exec(url);
  if (file) return { kind: "file", dir: file[1] };
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!s3) return undefined;
  const pathStyle = env.S3_FORCE_PATH_STYLE;
  return {
    kind: "s3",
    bucket: s3[1],
    prefix: s3[2],
    endpoint: env.S3_ENDPOINT || undefined,
    region: env.S3_REGION || undefined,
    forcePathStyle: pathStyle === undefined ? false : pathStyle === "true" || pathStyle === "1",
  };
}

/** The config from environment variables; a ConfigError names every bad variable. */
export function configFromEnv(env: Record<string, string | undefined>): RegionNodeConfig {
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  for (const [field, name] of Object.entries(ENV_NAME_OF)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    input[field] = NUMERIC.has(field) ? (/^\d+$/.test(value) ? Number(value) : value) : value;
  }
  for (const list of ["warmModels", "scalingGroupNames"] as const) {
    const value = input[list];
    if (typeof value === "string") {
      input[list] = value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    }
  }
  if (typeof input.objectStore === "string") {
    const store = parseObjectStore(input.objectStore, env);
    if (store === undefined) problems.push(`  OBJECT_STORE: ${OBJECT_STORE_FORMS}`);
    input.objectStore = store;
  }
  if (typeof input.modelStore === "string") {
    const url = input.modelStore;
    const store = /^https?:\/\//.test(url)
      ? { kind: "http", url }
      : url.startsWith("s3://")
        ? parseObjectStore(url, env)
        : undefined;
    if (store === undefined) {
      problems.push("  MODEL_STORE_URL: must be s3://<bucket>/<prefix> or http(s)://<host>/<path>");
    }
    input.modelStore = store;
  }
  // Keys come as `<key id>:<secret>` text here: parsed first, so a problem is named precisely.
  for (const [field, name] of [
    ["signingKey", "REGION_SIGNING_KEY"],
    ["previousSigningKey", "REGION_SIGNING_KEY_PREVIOUS"],
  ] as const) {
    const text = env[name];
    if (text === undefined || text === "") {
      if (field === "signingKey") problems.push(`  ${name}: is required`);
      continue;
    }
    const key = SigningKeyText.safeParse(text);
    if (key.success) input[field] = key.data;
    else problems.push(`  ${name}: ${key.error.issues[0]!.message}`);
  }
  if (!env.EDGE_URL) {
    problems.push("  EDGE_URL: is required (events and heartbeats go to the configured edge only)");
  }
  if (env.REGION_SIGNING_SECRET) {
    problems.push(
      "  REGION_SIGNING_SECRET: no longer read; set REGION_SIGNING_KEY=<key id>:<secret> (docs/operations.md)",
    );
  }
  const pathStyle = env.S3_FORCE_PATH_STYLE;
  if (pathStyle !== undefined && !["true", "false", "1", "0", ""].includes(pathStyle)) {
    problems.push("  S3_FORCE_PATH_STYLE: must be true or false");
  }
  input.opsPort ??= DEFAULT_OPS_PORT;
  const parsed = RegionNodeConfig.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [field, ...rest] = issue.path;
      // Already named above.
      if (field === "signingKey" || field === "previousSigningKey") continue;
      const name = ENV_NAME_OF[field as keyof typeof ENV_NAME_OF] ?? String(field);
      const list = name === "WARM_MODELS" || name === "SCALING_GROUP_NAMES";
      const where = rest.length > 0 && !list ? `${name} (${rest.join(".")})` : name;
      const message =
        issue.code === "invalid_type" && input[String(field)] === undefined
          ? "is required"
          : issue.message;
      problems.push(`  ${where}: ${message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join("\n")}`);
  return parsed.data!;
}
