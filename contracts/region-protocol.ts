import { z } from "zod";
import { Priority } from "./api.ts";

// The edge <-> region protocol. Every call in both directions is signed (contracts/signing.ts).

export const REGION_PATHS = {
  /** edge -> region: enqueue a job */
  jobs: "/v1/jobs",
  /** edge -> region: read a stored object (to fill the edge cache); DELETE: removed after review */
  object: (key: string) => `/v1/objects/${encodeURIComponent(key)}`,
  /** edge -> region: load a model version ahead of traffic */
  modelsWarm: "/v1/models/warm",
  /** edge -> region: drop a job (answer: JobCancelAnswer); served at "/v1/jobs/:id/cancel" */
  jobCancel: (jobId: string) => `/v1/jobs/${encodeURIComponent(jobId)}/cancel`,
  /** edge -> region: a prompt's style embedding, as the model draws it (TextStyleRequest) */
  styleText: "/v1/style/text-embedding",
  /** region -> edge: job lifecycle events */
  events: (region: string) => `/internal/regions/${encodeURIComponent(region)}/events`,
  /** region -> edge: heartbeat */
  heartbeat: (region: string) => `/internal/regions/${encodeURIComponent(region)}/heartbeat`,
} as const;

export const RegionName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/);

/** A region as configured at the edge (REGIONS env var: a JSON array of these). */
export const RegionConfig = z.object({
  name: RegionName,
  endpoint: z.url(),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  /** Extra simulated round-trip time for local development. */
  rtt_ms: z.number().min(0).max(10_000).optional(),
});
export type RegionConfig = z.infer<typeof RegionConfig>;
export const RegionList = z.array(RegionConfig).min(1);

/** The classes of the output-safety classifier (nsfwjs); each score is a probability, all sum to 1. */
export const SafetyClass = z.enum(["drawing", "hentai", "neutral", "porn", "sexy"]);
export type SafetyClass = z.infer<typeof SafetyClass>;
export const SafetyScores = z.record(SafetyClass, z.number().min(0).max(1));
export type SafetyScores = z.infer<typeof SafetyScores>;

/** The classes that can block an output. */
export const ModerationCategory = z.enum(["porn", "hentai", "sexy"]);
export type ModerationCategory = z.infer<typeof ModerationCategory>;

export const ModerationStrictness = z.enum(["strict", "standard", "relaxed"]);
export type ModerationStrictness = z.infer<typeof ModerationStrictness>;

/**
 * A project's output-moderation policy. An output is blocked when a category's score reaches its
 * threshold: the strictness's, unless `thresholds` overrides it (null: that category never blocks).
 * Under standard and relaxed, an output the fast screening classifier flags is judged again by a
 * larger confirming classifier, whose verdict stands; under strict, the screen's verdict stands.
 */
export const ModerationPolicy = z.strictObject({
  strictness: ModerationStrictness.default("standard"),
  thresholds: z.partialRecord(ModerationCategory, z.number().gt(0).max(1).nullable()).optional(),
});
export type ModerationPolicy = z.infer<typeof ModerationPolicy>;

/** A classifier's verdict on one output (the screen's, when a confirmation overruled it). */
export const ModerationJudgement = z.object({
  /** Which classifier judged, e.g. "nsfwjs/MobileNetV2Mid@4.4.0". */
  classifier: z.string(),
  /** Categories whose score reached the policy's threshold. */
  categories: z.array(ModerationCategory),
  scores: SafetyScores,
});
export type ModerationJudgement = z.infer<typeof ModerationJudgement>;

/**
 * A style to draw with: a vector of a model's style space (a reference output's, or a profile's)
 * and how strongly to blend it in (0: exactly as without one).
 */
export const JobStyle = z.strictObject({
  space: z.string().min(1),
  vector: z.array(z.number().finite()).min(1).max(4096),
  strength: z.number().min(0).max(1),
});
export type JobStyle = z.infer<typeof JobStyle>;

/**
 * An upscale by resampling (models whose manifest says `upscale: "resample"`): the parent's stored
 * image, scaled to the job's width and height instead of a model run.
 */
export const JobSource = z.strictObject({
  /** The parent's content-addressed key; read from the region's store when it is there. */
  key: z.string().min(1).max(200),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Signed URL of the same bytes at the edge, for regions whose store lacks them. */
  url: z.url(),
});
export type JobSource = z.infer<typeof JobSource>;

export const RegionJob = z.strictObject({
  job_id: z.string(),
  request_id: z.string(),
  account_id: z.string(),
  project_id: z.string().nullable(),
  model: z.string(),
  model_version: z.string(),
  prompt: z.string(),
  negative_prompt: z.string().nullable(),
  width: z.number().int(),
  height: z.number().int(),
  seed: z.number().int().min(0).max(0xffffffff),
  priority: Priority,
  /** Absolute URL the region posts JobEvents to. */
  callback_url: z.url(),
  submitted_at: z.string(),
  /** Output moderation policy of the job's project; absent: standard strictness. */
  moderation: ModerationPolicy.optional(),
  style: JobStyle.optional(),
  source: JobSource.optional(),
});
export type RegionJob = z.infer<typeof RegionJob>;

export const JobAccepted = z.object({
  job_id: z.string(),
  region: z.string(),
  queue_position: z.number().int().min(0),
  estimated_wait_ms: z.number().min(0),
  /**
   * Who holds the job until its outcome is delivered: the accepting node's id when the job sits in
   * that node's own queue (it is lost if the node goes), null when the region's shared queue holds
   * it (any of its nodes may run it). The edge's lease on the job follows the holder's heartbeats.
   */
  holder: z.string().nullable().optional(),
});
export type JobAccepted = z.infer<typeof JobAccepted>;

/**
 * 200 answer to POST /v1/jobs/:id/cancel (signed, empty body; a job the region does not know is a
 * 404 `job_not_found` error). Repeating the call gives the same answer.
 * - `canceled`: it was still queued; it will never run and no event follows.
 * - `running`: it was already in a batch, which is not interrupted; its output is discarded and no
 *   terminal event follows (a `running` event may). On a shared queue, a node other than the one
 *   that answered may still upload the image (an unlisted, content-addressed object).
 * - `finished`: it had ended; its terminal event was or will be sent (the edge ignores it).
 */
export const JobCancelAnswer = z.object({
  job_id: z.string(),
  state: z.enum(["canceled", "running", "finished"]),
});
export type JobCancelAnswer = z.infer<typeof JobCancelAnswer>;

/**
 * Optional JSON body of POST /v1/jobs/:id/cancel: why the edge drops the job. `canceled`: the
 * client canceled it; `lease_expired`: the edge gave up waiting and sent it elsewhere;
 * `superseded`: another attempt of the same generation finished first.
 */
export const JobCancelRequest = z.strictObject({
  reason: z.enum(["canceled", "lease_expired", "superseded"]).default("canceled"),
});
export type JobCancelRequest = z.infer<typeof JobCancelRequest>;
export type JobCancelReason = JobCancelRequest["reason"];

/** Body of POST /v1/models/warm. */
export const WarmModelRequest = z.strictObject({
  model: z.string().min(1),
  version: z.string().min(1),
});
export type WarmModelRequest = z.infer<typeof WarmModelRequest>;

/** 200 when the model is hot already, 202 while it loads in the background. */
export const WarmModelAnswer = z.object({
  model: z.string(),
  version: z.string(),
  state: z.enum(["hot", "loading"]),
});
export type WarmModelAnswer = z.infer<typeof WarmModelAnswer>;

export const StoredObject = z.object({
  key: z.string(),
  content_type: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type StoredObject = z.infer<typeof StoredObject>;

export const JobTimings = z.object({
  queue_ms: z.number(),
  inference_ms: z.number(),
  encode_ms: z.number(),
  upload_ms: z.number(),
  batch_size: z.number().int(),
  /** Time to check the image against the output-safety classifier (resize, queue, classify). */
  moderation_ms: z.number().min(0).optional(),
});

/**
 * An output's style embedding, computed at the region from its pixels (regional-gpu/style): unit
 * length, `descriptor` names the recipe (vectors of different descriptors are not comparable).
 */
export const StyleEmbeddingPayload = z.strictObject({
  descriptor: z.string().min(1).max(64),
  values: z.array(z.number().finite()).min(1).max(256),
});
export type StyleEmbeddingPayload = z.infer<typeof StyleEmbeddingPayload>;

/** The style vector a model drew an output with (models with a style output). */
export const StyleVectorPayload = z.strictObject({
  space: z.string().min(1).max(128),
  values: z.array(z.number().finite()).min(1).max(4096),
});
export type StyleVectorPayload = z.infer<typeof StyleVectorPayload>;

/** POST /v1/style/text-embedding: a prompt in a model's style space. */
export const TextStyleRequest = z.strictObject({
  model: z.string().min(1),
  version: z.string().min(1),
  text: z.string().min(1).max(2000),
});
export type TextStyleRequest = z.infer<typeof TextStyleRequest>;
export const TextStyleAnswer = z.object({ embedding: StyleEmbeddingPayload });
export type TextStyleAnswer = z.infer<typeof TextStyleAnswer>;

const base = { job_id: z.string(), region: z.string(), request_id: z.string(), at: z.string() };

export const JobEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("running"), ...base }),
  z.object({
    type: z.literal("succeeded"),
    ...base,
    started_at: z.string(),
    gpu_ms: z.number().min(0),
    execution_provider: z.string(),
    timings: JobTimings,
    output: StoredObject,
    /** Present when the screen flagged the output and the confirming classifier cleared it. */
    moderation_flag: ModerationJudgement.optional(),
    style_embedding: StyleEmbeddingPayload.optional(),
    style_vector: StyleVectorPayload.optional(),
  }),
  z.object({
    type: z.literal("failed"),
    ...base,
    error: z.object({ code: z.string(), message: z.string() }),
    /** true when the job never started and the edge may route it elsewhere (e.g. node draining). */
    retryable: z.boolean(),
  }),
  z.object({
    /** The output failed moderation: stored only under QUARANTINE_PREFIX, never at a public key. */
    type: z.literal("blocked"),
    ...base,
    started_at: z.string(),
    /** GPU time spent, for accounting; the user is not charged for a blocked output. */
    gpu_ms: z.number().min(0),
    execution_provider: z.string(),
    timings: JobTimings,
    /** Categories whose score reached the policy's threshold. */
    categories: z.array(ModerationCategory).min(1),
    /** The deciding classifier's scores. */
    scores: SafetyScores,
    /** The thresholds applied (null: the category could not block). */
    thresholds: z.record(ModerationCategory, z.number().nullable()),
    /** The deciding classifier, e.g. "nsfwjs/InceptionV3@4.4.0". */
    classifier: z.string(),
    /** The screening classifier's verdict, when a confirming classifier decided. */
    screening: ModerationJudgement.optional(),
    quarantine_key: z.string().refine((key) => key.startsWith(QUARANTINE_PREFIX), {
      message: "must be under the quarantine prefix",
    }),
  }),
]);
export type JobEvent = z.infer<typeof JobEvent>;

/** Most job ids one heartbeat lists; past it the list is cut and marked incomplete. */
export const MAX_HELD_JOBS = 4_096;

/**
 * The jobs a heartbeat renews: every job its holder still answers for (queued, running, or finished
 * with its outcome not yet delivered to the edge). `node`: this node's own queue; `region`: the
 * region's shared queue, the same list from every node. An incomplete list renews the jobs it names
 * but proves nothing about the others.
 */
export const HeldJobs = z.object({
  scope: z.enum(["node", "region"]),
  jobs: z.array(z.string()).max(MAX_HELD_JOBS),
  complete: z.boolean(),
});
export type HeldJobs = z.infer<typeof HeldJobs>;

export const Heartbeat = z.object({
  region: z.string(),
  node_id: z.string(),
  at: z.string(),
  ready: z.boolean(),
  draining: z.boolean(),
  queue_depth: z.object({ fast: z.number(), standard: z.number(), relax: z.number() }),
  in_flight: z.number().int(),
  /** Most jobs the node runs at once (its max batch). */
  capacity: z.number().int(),
  /** Jobs finished per second, exponentially weighted. */
  throughput_per_s: z.number(),
  warm_models: z.array(z.string()),
  /** Share of the jobs finished in the last minute that failed (see recent_jobs for how many). */
  failure_rate: z.number().min(0).max(1),
  execution_provider: z.string(),
  /** Age of the oldest queued job (0 when none). */
  oldest_job_age_ms: z.number().min(0).optional(),
  /** Jobs queued or running per node taking from the queue: the signal the fleet autoscales on. */
  backlog_per_instance: z.number().min(0).optional(),
  /** Measured service time per image (EWMA over batches); null before the first batch. */
  service_ms_per_image: z.number().min(0).nullable().optional(),
  /** Expected wait of a job arriving now in each lane. */
  estimated_wait_ms: z
    .object({ fast: z.number().min(0), standard: z.number().min(0), relax: z.number().min(0) })
    .optional(),
  /** Jobs finished in the last minute, and of those the failures by code: "no capacity" shows as
   * a long queue with few failures, "node failing" as failures with an empty queue. */
  recent_jobs: z.number().int().min(0).optional(),
  recent_failures: z.record(z.string(), z.number().int().min(0)).optional(),
  /** Longest a job waits for batch-mates. */
  max_batch_delay_ms: z.number().min(0).optional(),
  /** The jobs this heartbeat renews the edge's leases on (absent: an older node; leases run out). */
  holds: HeldJobs.optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/** Content-addressed key of a published output; blocked outputs live only under QUARANTINE_PREFIX. */
export const outputKey = (sha256: string, ext: "png" | "webp") => `${sha256}.${ext}`;
export const QUARANTINE_PREFIX = "quarantine/";
