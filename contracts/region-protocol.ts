import { z } from "zod";
import { Priority } from "./api.ts";

// The edge <-> region protocol. Every call in both directions is signed (contracts/signing.ts).

export const REGION_PATHS = {
  /** edge -> region: enqueue a job */
  jobs: "/v1/jobs",
  /** edge -> region: read a stored object (to fill the edge cache) */
  object: (key: string) => `/v1/objects/${encodeURIComponent(key)}`,
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
});
export type RegionJob = z.infer<typeof RegionJob>;

export const JobAccepted = z.object({
  job_id: z.string(),
  region: z.string(),
  queue_position: z.number().int().min(0),
  estimated_wait_ms: z.number().min(0),
});
export type JobAccepted = z.infer<typeof JobAccepted>;

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
});

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
  }),
  z.object({
    type: z.literal("failed"),
    ...base,
    error: z.object({ code: z.string(), message: z.string() }),
    /** true when the job never started and the edge may route it elsewhere (e.g. node draining). */
    retryable: z.boolean(),
  }),
]);
export type JobEvent = z.infer<typeof JobEvent>;

export const Heartbeat = z.object({
  region: z.string(),
  node_id: z.string(),
  at: z.string(),
  ready: z.boolean(),
  draining: z.boolean(),
  queue_depth: z.object({ fast: z.number(), standard: z.number(), relax: z.number() }),
  in_flight: z.number().int(),
  capacity: z.number().int(),
  throughput_per_s: z.number(),
  warm_models: z.array(z.string()),
  failure_rate: z.number().min(0).max(1),
  execution_provider: z.string(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/** Content-addressed key of a published output; blocked outputs live only under QUARANTINE_PREFIX. */
export const outputKey = (sha256: string, ext: "png" | "webp") => `${sha256}.${ext}`;
export const QUARANTINE_PREFIX = "quarantine/";
