import { FeedbackCounts, GenerationReview } from "./feedback.ts";
import { z } from "./zod.ts";
import { PolicyMatch } from "./errors.ts";
import { STYLE_EMBEDDING_DIMS } from "./style.ts";

// Public API v1 (../shared/API.md). The single source of these types for the edge, the regions and clients.

export const Priority = z.enum(["fast", "standard", "relax"]).openapi("Priority");
export type Priority = z.infer<typeof Priority>;

export const GenerationStatus = z
  .enum(["queued", "running", "succeeded", "failed", "blocked", "canceled"])
  .openapi("GenerationStatus");
export type GenerationStatus = z.infer<typeof GenerationStatus>;
export const TERMINAL_STATUSES: ReadonlySet<GenerationStatus> = new Set([
  "succeeded",
  "failed",
  "blocked",
  "canceled",
]);

export const SIDE = { min: 64, max: 2048, multipleOf: 64, default: 512 } as const;
export const PROMPT_MAX_CHARS = 2000;
export const METADATA_MAX_PAIRS = 16;

const side = z
  .number()
  .int()
  .min(SIDE.min)
  .max(SIDE.max)
  .multipleOf(SIDE.multipleOf, `must be a multiple of ${SIDE.multipleOf}`)
  .default(SIDE.default)
  // zod-to-openapi does not emit multipleOf by itself.
  .openapi({
    description: `Pixels: ${SIDE.min}..${SIDE.max}, a multiple of ${SIDE.multipleOf}.`,
    multipleOf: SIDE.multipleOf,
  });

const GENERATION_ID = /^gen_[0-9a-z]{26}$/;
const PROJECT_ID = /^proj_[0-9a-z]{26}$/;
/** A taste profile needs this many liked outputs with a style vector, and uses the latest this many. */
export const PROFILE_MIN_LIKES = 3;
export const PROFILE_MAX_LIKES = 200;
const MODEL_REF = /^[a-z0-9][a-z0-9-]{0,63}(@[A-Za-z0-9._-]{1,64})?$/;

const StyleStrength = z.number().min(0).max(1).default(0.5);

/**
 * A style to draw with, blended in by `strength` (0: as if none; 1: the style itself): an earlier
 * output's (`reference`, one the caller may read), or the caller's taste profile (`profile: "me"`,
 * the outputs the account liked).
 */
export const StyleFromOutput = z
  .strictObject({
    reference: z.string().regex(GENERATION_ID, "reference must be a generation id"),
    strength: StyleStrength,
  })
  .openapi("StyleFromOutput");
export const StyleFromProfile = z
  .strictObject({
    profile: z
      .literal("me")
      .describe(
        `The caller's taste profile: the mean style of the latest ${PROFILE_MAX_LIKES} outputs the account liked (at least ${PROFILE_MIN_LIKES} drawn in the model's style space, else 422 \`style_profile_empty\`).`,
      ),
    strength: StyleStrength,
  })
  .openapi("StyleFromProfile");
export type StyleFromOutput = z.infer<typeof StyleFromOutput>;
export type StyleFromProfile = z.infer<typeof StyleFromProfile>;
export const StyleReference = z
  .union([StyleFromOutput, StyleFromProfile])
  .openapi("StyleReference");
export type StyleReference = z.infer<typeof StyleReference>;

export const WebhookEvent = z
  .enum(["succeeded", "failed", "blocked", "canceled"])
  .openapi("WebhookEvent");

export const CreateGenerationRequest = z
  .strictObject({
    prompt: z
      .string()
      .max(PROMPT_MAX_CHARS, `prompt must be at most ${PROMPT_MAX_CHARS} characters`)
      .refine((s) => s.trim().length > 0, { message: "prompt must not be empty" })
      .describe("What to draw. Moderated: a violation is 422 naming the matched span."),
    negative_prompt: z
      .string()
      .max(PROMPT_MAX_CHARS)
      .optional()
      .describe("What to steer away from (not read as a request for what it names)."),
    model: z
      .string()
      .regex(MODEL_REF, "model must be 'name' or 'name@version'")
      .optional()
      .describe("Default: the default model; `name@version` pins a version."),
    width: side,
    height: side,
    seed: z
      .number()
      .int()
      .min(0)
      .max(0xffffffff)
      .optional()
      .describe("uint32; random when absent (and then never answered from the dedup cache)."),
    priority: Priority.optional().describe(
      "Lane; default `standard`. `fast` needs a paying plan: the plan decides what is allowed.",
    ),
    project: z
      .string()
      .regex(PROJECT_ID, "project must be a project id")
      .optional()
      .describe("Files and bills the generation under this project (its visibility applies)."),
    style: StyleReference.optional().describe(
      'Borrow the style of an earlier generation (`{ reference: "gen_..." }`) or your taste profile (`{ profile: "me" }`: the outputs you liked) with this strength (0..1). Models without a style input answer 422 `style_not_supported`.',
    ),
    webhook: z
      .strictObject({
        url: z.url({ protocol: /^https?$/ }),
        events: z.array(WebhookEvent).min(1).optional(),
      })
      .optional()
      .describe(
        "POSTed, signed per Standard Webhooks, on the terminal events named (default all).",
      ),
    metadata: z
      .record(z.string().min(1).max(64), z.string().max(512))
      .refine((m) => Object.keys(m).length <= METADATA_MAX_PAIRS, {
        message: `metadata may hold at most ${METADATA_MAX_PAIRS} pairs`,
      })
      .optional()
      .describe(`Your own string pairs (at most ${METADATA_MAX_PAIRS}), returned as given.`),
    cache: z
      .boolean()
      .optional()
      .describe("`false`: never answer from the dedup cache nor merge with an identical request."),
    dry_run: z
      .boolean()
      .optional()
      .describe(
        "`true`: answer the estimate (cost, lane, region, wait) without creating anything or spending.",
      ),
  })
  .openapi("CreateGenerationRequest");
export type CreateGenerationRequest = z.infer<typeof CreateGenerationRequest>;

/** POST /v1/generations/:id/refine: a new generation from an earlier one (its child). */
export const RefineRequest = z
  .strictObject({
    prompt: CreateGenerationRequest.shape.prompt.optional().describe("Default: the source's."),
    negative_prompt:
      CreateGenerationRequest.shape.negative_prompt.describe("Default: the source's."),
    seed: CreateGenerationRequest.shape.seed.describe(
      "Default: the source's (the same composition, steered by the new prompt).",
    ),
    strength: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe(
        "How far the result may move from the source (0: stay close, 1: only the new prompt counts). On a model version with a style input the source is the style reference at strength 1 - strength; otherwise the source's own style (if any) is kept.",
      ),
  })
  .openapi("RefineRequest");
export type RefineRequest = z.infer<typeof RefineRequest>;

export const GenerationOutput = z
  .object({
    url: z.string(),
    content_type: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    bytes: z.number().int(),
    sha256: z.string(),
  })
  .openapi("GenerationOutput");

export const GenerationError = z
  .object({
    type: z.string(),
    code: z.string(),
    message: z.string(),
    categories: z.array(z.string()).optional(),
    /** Prompt moderation: the spans of the prompt that were matched. */
    matches: z.array(PolicyMatch).optional(),
  })
  .openapi("GenerationError");

/** How a region scored for one routing decision (all times in ms). */
export const RouteCandidate = z
  .object({
    region: z.string(),
    /** The edge's view of the region: healthy | unknown | stale | draining | tripped. */
    state: z.enum(["healthy", "unknown", "stale", "draining", "tripped"]),
    /** rtt_ms + queue_ms + cold_ms: when the job would be expected to start there. */
    expected_ms: z.number(),
    /** Network round trip: distance model corrected by observed dispatch times; null when unknown. */
    rtt_ms: z.number().nullable(),
    /** Expected wait in the job's lane, from the region's heartbeats. */
    queue_ms: z.number(),
    /** Penalty when the model version is not warm there. */
    cold_ms: z.number(),
    /** What happened: tried (accepted, busy, unreachable, rejected), not tried, or skipped. */
    outcome: z.enum(["accepted", "busy", "unreachable", "rejected", "not_tried", "skipped"]),
  })
  .openapi("RouteCandidate");
export type RouteCandidate = z.infer<typeof RouteCandidate>;

/** The routing decision behind a generation's region: every region, in the order considered. */
export const GenerationRouting = z
  .object({
    /** The region that accepted the job; null when none did. */
    region: z.string().nullable(),
    /** The region's id for the job (a re-dispatch gets a new one). */
    job_id: z.string(),
    decided_at: z.string(),
    candidates: z.array(RouteCandidate),
  })
  .openapi("GenerationRouting");
export type GenerationRouting = z.infer<typeof GenerationRouting>;

/** Why a dispatch attempt was given up and the job sent elsewhere (see docs/operations.md, leases). */
export const AttemptEndReason = z
  .enum([
    // No heartbeat from the region (or from the node that held the job) within the TTL.
    "region_down",
    // The region's heartbeats stopped listing the job: it forgot it (a restarted process).
    "job_forgotten",
    // The lease ran out without the region renewing it or reporting an outcome.
    "lease_expired",
    // The region gave the job back unstarted (a draining node).
    "handed_back",
    // An earlier attempt's result arrived first and ended the generation; this one was dropped.
    "superseded",
  ])
  .openapi("AttemptEndReason");
export type AttemptEndReason = z.infer<typeof AttemptEndReason>;

/** One dispatch of a generation to a region. */
export const GenerationAttempt = z
  .object({
    region: z.string(),
    /** The region's id for the job of this attempt. */
    job_id: z.string(),
    started_at: z.string(),
    /** null for the current attempt while it runs. */
    ended_at: z.string().nullable(),
    /** Why the attempt was given up; null for the current (or final) one. */
    reason: AttemptEndReason.nullable(),
  })
  .openapi("GenerationAttempt");
export type GenerationAttempt = z.infer<typeof GenerationAttempt>;

export const LaneChange = z
  .object({
    /** The lane the request asked for (or would have had by default). */
    requested: Priority,
    /** cost_cap: over the plan's cost per request; budget: a budget with the relax rule is spent. */
    reason: z.enum(["cost_cap", "budget"]),
  })
  .openapi("LaneChange");

export const Generation = z
  .object({
    id: z.string(),
    object: z.literal("generation"),
    status: GenerationStatus,
    prompt: z.string(),
    negative_prompt: z.string().nullable(),
    model: z.string(),
    model_version: z.string(),
    params: z.object({
      width: z.number().int(),
      height: z.number().int(),
      seed: z.number().int(),
      priority: Priority,
    }),
    project: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    region: z.string().nullable(),
    cached: z.boolean(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    queue: z.object({ estimated_wait_ms: z.number().nullable() }),
    output: GenerationOutput.nullable(),
    error: GenerationError.nullable(),
    cost: z.object({
      estimated_usd: z.number(),
      actual_usd: z.number().nullable(),
      gpu_ms: z.number().nullable(),
    }),
    urls: z.object({ self: z.string(), events: z.string(), cancel: z.string() }),
    /** Why the generation went where it did; null until routed (or when answered from cache). */
    routing: GenerationRouting.nullable().optional(),
    /**
     * Every dispatch, oldest first, when there was more than one (a region was lost and the job
     * sent elsewhere); empty otherwise.
     */
    attempts: z.array(GenerationAttempt),
    /** false for test-mode keys (`gk_test_`): never charged, never counted against caps. */
    livemode: z.boolean().optional(),
    /** Set when the plan or a budget moved the request to another lane than the one asked for. */
    lane_change: LaneChange.nullable().optional(),
    /** The generation this one was made from (upscale, refine); null otherwise. */
    parent_id: z.string().nullable(),
    /** The style it was drawn with, as requested; null without one. */
    style: z
      .union([
        z.object({ reference: z.string(), strength: z.number() }),
        z.object({ profile: z.literal("me"), strength: z.number() }),
      ])
      .nullable(),
    /** Votes on it: `POST /v1/generations/:id/feedback`. */
    feedback: FeedbackCounts.optional(),
    /** Present once reports hid it: pending review (451 to everyone else), approved or removed. */
    review: GenerationReview.nullable().optional(),
  })
  .openapi("Generation");
export type Generation = z.infer<typeof Generation>;

/**
 * Event names of GET /v1/generations/:id/events (text/event-stream); each event's data is the
 * Generation. `routed`: a region accepted the job (again after a failover); the rest are statuses.
 */
export const GenerationEventType = z
  .enum(["queued", "routed", "running", "succeeded", "failed", "blocked", "canceled"])
  .openapi("GenerationEventType");
export type GenerationEventType = z.infer<typeof GenerationEventType>;

export const GenerationList = z
  .object({
    object: z.literal("list"),
    data: z.array(Generation),
    next_cursor: z.string().nullable(),
  })
  .openapi("GenerationList");

export const ListGenerationsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  project: z.string().max(64).optional(),
  status: GenerationStatus.optional(),
});

/** Rollout state of a version (see ModelVersionInfo.status). */
export const ModelVersionStatus = z
  .enum(["candidate", "canary", "default", "retired"])
  .openapi("ModelVersionStatus");

/** Preference and health of a version, from its served generations and their feedback. */
export const ModelVersionMetrics = z
  .object({
    /** Succeeded live generations (test mode excluded). */
    served: z.number().int(),
    /** Likes per served generation (fraud-weighted: only votes that count for training). */
    like_rate: z.number(),
    dislike_rate: z.number(),
    /** Refines started from its outputs per served generation. */
    refine_rate: z.number(),
    report_rate: z.number(),
    /** Failed / (succeeded + failed). */
    failure_rate: z.number(),
  })
  .openapi("ModelVersionMetrics");

export const ModelVersionInfo = z
  .object({
    version: z.string(),
    /**
     * candidate: served only when pinned; canary: also takes `traffic_share` of the accounts
     * sending unpinned requests (sticky per account); default: the rest of them; retired: not served.
     */
    status: ModelVersionStatus,
    /** Share of unpinned accounts on this version while it is the canary; 0 otherwise. */
    traffic_share: z.number(),
    /** The version this one was trained from (its manifest's lineage); null for a built one. */
    parent_version: z.string().nullable(),
    pipeline: z.string(),
    price_per_megapixel_usd: z.number(),
    /** Measured GPU time per megapixel; null until the version has run. */
    gpu_ms_per_megapixel: z.number().nullable(),
    metrics: ModelVersionMetrics,
    created_at: z.string(),
  })
  .openapi("ModelVersion");

/** One step of a model's rollout history. */
export const ModelRolloutInfo = z
  .object({
    version: z.string(),
    action: z.enum(["register", "canary", "ramp", "promote", "rollback", "retire", "restore"]),
    from_status: ModelVersionStatus.nullable(),
    to_status: ModelVersionStatus,
    traffic_share: z.number(),
    /** "auto" (the rollout controller), "admin" or "register". */
    actor: z.string(),
    reason: z.string(),
    created_at: z.string(),
  })
  .openapi("ModelRollout");

export const ModelInfo = z
  .object({
    object: z.literal("model"),
    /** What `model` in a request names; `name@version` pins a version. */
    name: z.string(),
    description: z.string().nullable(),
    /** The version unpinned requests run on (unless the canary takes them); null when none. */
    default_version: z.string().nullable(),
    versions: z.array(ModelVersionInfo),
    /** The latest steps of its rollout history, newest first. */
    rollouts: z.array(ModelRolloutInfo),
  })
  .openapi("Model");

export const ModelList = z
  .object({ object: z.literal("list"), data: z.array(ModelInfo) })
  .openapi("ModelList");

export const RegionInfo = z
  .object({
    object: z.literal("region"),
    name: z.string(),
    /** healthy: taking work; degraded: draining or failing calls; down: no recent heartbeat. */
    status: z.enum(["healthy", "degraded", "down"]),
    queue_depth: z.object({ fast: z.number(), standard: z.number(), relax: z.number() }).nullable(),
    warm_models: z.array(z.string()),
    last_heartbeat_at: z.string().nullable(),
    /** Jobs taken away from this region and dispatched elsewhere (lost, forgotten, handed back). */
    redispatches: z.number().int(),
    /** Of those, the jobs whose lease ran out without a word from the region. */
    lease_expiries: z.number().int(),
  })
  .openapi("Region");

export const RegionList = z
  .object({ object: z.literal("list"), data: z.array(RegionInfo) })
  .openapi("RegionList");

/** POST /v1/generations/:id/upscale. */
export const UpscaleRequest = z
  .strictObject({
    factor: z
      .union([z.literal(2), z.literal(4)])
      .describe("Each side is multiplied by this (2 or 4)."),
  })
  .openapi("UpscaleRequest");
export type UpscaleRequest = z.infer<typeof UpscaleRequest>;

export const SEARCH_LIMIT = { default: 20, max: 50 } as const;
export const SEARCH_TEXT_MAX_CHARS = 500;

const searchFilters = {
  project: z
    .string()
    .regex(PROJECT_ID, "project must be a project id")
    .optional()
    .describe("Only outputs of this project."),
  model: z
    .string()
    .regex(MODEL_REF, "model must be 'name' or 'name@version'")
    .optional()
    .describe(
      "Only outputs of this model (`name@version`: of this version). A text query is embedded by this model (default: the default model).",
    ),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("Only outputs created at or after this time."),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("Only outputs created before this time."),
  cursor: z.string().max(512).optional().describe("`next_cursor` of the previous page."),
};

/** POST /v1/search: exactly one of `generation`, `text` or `embedding`, plus filters. */
export const SearchRequest = z
  .strictObject({
    generation: z
      .string()
      .regex(GENERATION_ID, "generation must be a generation id")
      .optional()
      .describe("More like this output (yours, or a public one); it is left out of the results."),
    text: z
      .string()
      .min(1)
      .max(SEARCH_TEXT_MAX_CHARS)
      .refine((s) => s.trim().length > 0, { message: "text must not be empty" })
      .optional()
      .describe("A prompt, drawn by the model and placed in the style space the way it draws."),
    embedding: z
      .array(z.number())
      .length(STYLE_EMBEDDING_DIMS, `embedding must have ${STYLE_EMBEDDING_DIMS} values`)
      .optional()
      .describe(`A style embedding (${STYLE_EMBEDDING_DIMS} numbers; only its direction counts).`),
    ...searchFilters,
    limit: z.number().int().min(1).max(SEARCH_LIMIT.max).default(SEARCH_LIMIT.default),
  })
  .refine((r) => [r.generation, r.text, r.embedding].filter((q) => q !== undefined).length === 1, {
    message: "give exactly one of generation, text or embedding",
    path: ["generation"],
  })
  .openapi("SearchRequest");
export type SearchRequest = z.infer<typeof SearchRequest>;

/** GET /v1/search?q=: a text query. */
export const SearchQueryParams = z.strictObject({
  q: z
    .string()
    .min(1)
    .max(SEARCH_TEXT_MAX_CHARS)
    .refine((s) => s.trim().length > 0, { message: "q must not be empty" }),
  ...searchFilters,
  limit: z.coerce.number().int().min(1).max(SEARCH_LIMIT.max).default(SEARCH_LIMIT.default),
});

/** Another account's public output, as search shows it: no costs, metadata or routing. */
export type PublicGeneration = z.infer<typeof PublicGeneration>;
export const PublicGeneration = Generation.pick({
  id: true,
  object: true,
  status: true,
  prompt: true,
  model: true,
  model_version: true,
  params: true,
  project: true,
  created_at: true,
  completed_at: true,
  output: true,
  parent_id: true,
}).openapi("PublicGeneration");

export const SearchResult = z
  .object({
    object: z.literal("search_result"),
    /** Cosine similarity of the styles, -1..1 (1: the same style). */
    score: z.number(),
    /** true: the caller's own output (a full Generation); false: a public one. */
    owned: z.boolean(),
    generation: z.union([Generation, PublicGeneration]),
  })
  .openapi("SearchResult");
export type SearchResult = z.infer<typeof SearchResult>;

export const SearchResults = z
  .object({
    object: z.literal("list"),
    data: z.array(SearchResult),
    next_cursor: z.string().nullable(),
  })
  .openapi("SearchResults");
