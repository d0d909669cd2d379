import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  type AnyPgColumn,
} from "drizzle-orm/pg-core";
import type { z } from "zod";
import {
  GenerationStatus,
  type CreateGenerationRequest,
  type GenerationAttempt,
  type Generation as ApiGeneration,
  type GenerationError,
  type GenerationRouting,
} from "../../contracts/api.ts";
import { REVIEW_STATES } from "../../contracts/feedback.ts";
import { newId } from "../../contracts/ids.ts";
import { createdAt, nonEmpty, microusd, oneOf, timestamptz, updatedAt } from "./_helpers.ts";
import { accounts } from "./accounts.ts";
import { API_KEY_MODES, apiKeys } from "./api-keys.ts";
import { modelVersions } from "./models.ts";
import { projects } from "./projects.ts";

export type GenerationParams = ApiGeneration["params"];
export type GenerationErrorBody = z.infer<typeof GenerationError>;
/**
 * The requested style and, once resolved at acceptance, the vector it stands for (the reference's
 * own, of the model's style space): what every dispatch of the generation sends.
 */
export type GenerationStyle = NonNullable<CreateGenerationRequest["style"]> & {
  space?: string;
  vector?: number[];
  /** For a taste profile: how many liked outputs it was the mean of. */
  likes?: number;
};
/**
 * How a child generation derives from its parent (`parent_generation_id`). An upscale either
 * re-draws at the larger size or resamples the parent's image (`source`: its bytes); a refine
 * draws the parent's request again with the user's changes.
 */
export type GenerationDerivation =
  | {
      kind: "upscale";
      factor: number;
      method: "rerender" | "resample";
      source?: { key: string; sha256: string; url: string };
    }
  /** A refine: drawn anew, `strength` how far it may move from the parent (its style reference). */
  | { kind: "refine"; strength: number; source?: never };
export type GenerationWebhook = NonNullable<CreateGenerationRequest["webhook"]>;
/** Why a generation runs in another lane than the one asked for (the plan's cost cap, a budget). */
export type GenerationLaneChange = NonNullable<ApiGeneration["lane_change"]>;
/** Verdicts of prompt and output moderation; the moderation code owns the details. */
export type GenerationModeration = {
  prompt?: { action: string; categories: string[] };
  output?: { action: string; categories: string[] };
  [detail: string]: unknown;
};

/**
 * One requested image, from acceptance to a terminal state. Written (queued) before any dispatch so
 * nothing accepted is lost; carries every tag that pricing, usage and search group by.
 */
export const generations = pgTable(
  "generations",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("generation")),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    projectId: text("project_id").references(() => projects.id, { onDelete: "set null" }),
    apiKeyId: text("api_key_id").references(() => apiKeys.id, { onDelete: "set null" }),
    modelVersionId: text("model_version_id").references(() => modelVersions.id, {
      onDelete: "set null",
    }),
    /** Model name and version as resolved at acceptance; kept even if the version row goes. */
    model: text("model").notNull(),
    modelVersion: text("model_version").notNull(),
    /** Region that ran (or serves) it; null until routed. */
    region: text("region"),
    prompt: text("prompt").notNull(),
    negativePrompt: text("negative_prompt"),
    params: jsonb("params").$type<GenerationParams>().notNull(),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    status: text("status", { enum: nonEmpty(GenerationStatus.options) })
      .notNull()
      .default("queued"),
    createdAt: createdAt(),
    routedAt: timestamptz("routed_at"),
    startedAt: timestamptz("started_at"),
    completedAt: timestamptz("completed_at"),
    updatedAt: updatedAt(),
    estimatedWaitMs: integer("estimated_wait_ms"),
    gpuMs: integer("gpu_ms"),
    costEstimatedMicrousd: microusd("cost_estimated_microusd").notNull().default(0),
    costActualMicrousd: microusd("cost_actual_microusd"),
    /** Content-addressed object key of the output; shared by deduplicated generations. */
    assetKey: text("asset_key"),
    contentType: text("content_type"),
    bytes: integer("bytes"),
    width: integer("width"),
    height: integer("height"),
    outputSha256: text("output_sha256"),
    /**
     * Dedup key (edge/dedup): account + model version + normalised prompts + seed + size + style.
     * Null when the seed was random or the request opted out of the cache.
     */
    contentHash: text("content_hash"),
    /**
     * Set on a request that arrived while an identical one (this id) was still queued or running:
     * it runs no GPU job of its own and finishes with that generation's outcome.
     */
    mergedIntoGenerationId: text("merged_into_generation_id").references(
      (): AnyPgColumn => generations.id,
      { onDelete: "set null" },
    ),
    /** The plan's price multiplier when it was accepted: estimated and actual cost include it. */
    priceMultiplier: doublePrecision("price_multiplier").notNull().default(1),
    /** The key's mode: `test` generations are never charged and never count against caps. */
    mode: text("mode", { enum: API_KEY_MODES }).notNull().default("live"),
    laneChange: jsonb("lane_change").$type<GenerationLaneChange>(),
    /** Answered from storage (dedup) at zero GPU cost. */
    cached: boolean("cached").notNull().default(false),
    error: jsonb("error").$type<GenerationErrorBody>(),
    moderation: jsonb("moderation").$type<GenerationModeration>(),
    idempotencyKey: text("idempotency_key"),
    /** Hash of the request body that came with `idempotency_key`; a different body is a 409. */
    requestHash: text("request_hash"),
    parentGenerationId: text("parent_generation_id").references((): AnyPgColumn => generations.id, {
      onDelete: "set null",
    }),
    style: jsonb("style").$type<GenerationStyle>(),
    derivation: jsonb("derivation").$type<GenerationDerivation>(),
    webhook: jsonb("webhook").$type<GenerationWebhook>(),
    requestId: text("request_id"),
    /** The routing decision of the latest dispatch: scores per region, outcome, the region's job id. */
    routing: jsonb("routing").$type<GenerationRouting>(),
    /**
     * The region's job id of the current dispatch (`gen_...`, `gen_....2` for the second attempt);
     * null while no region holds the job (not yet dispatched, or waiting for a region again).
     */
    jobId: text("job_id"),
    /** The node that alone holds the job (a node-local queue); null: the region's shared queue. */
    leaseHolder: text("lease_holder"),
    /**
     * While queued or running (and not merged into another): when the edge acts on the row unless
     * something renews it first. Dispatched: the lease's deadline, renewed by the holder's
     * heartbeats; not dispatched: when the next dispatch is due. See edge/generations/leases.ts.
     */
    leaseExpiresAt: timestamptz("lease_expires_at"),
    /** Dispatches given up (a region lost, a lease expired), oldest first; the current one is not here. */
    attempts: jsonb("attempts").$type<GenerationAttempt[]>().notNull().default([]),
    /**
     * Null until weighted reports pass the threshold. `pending`: hidden (451 to all but the owner,
     * out of galleries, feeds and search) and in the review queue; `approved`: visible again;
     * `removed`: hidden for good, its bytes deleted. Each change is a moderation event (`review`).
     */
    reviewState: text("review_state", { enum: REVIEW_STATES }),
    /** When reports hid it and it entered the review queue. */
    reviewOpenedAt: timestamptz("review_opened_at"),
    /** When a reviewer approved or removed it. */
    reviewDecidedAt: timestamptz("review_decided_at"),
    /**
     * Removed: when its bytes were deleted from the origin region's store and the edge store (the
     * asset key stays, so every edge keeps refusing cached copies). Null while the sweep has work.
     */
    outputPurgedAt: timestamptz("output_purged_at"),
  },
  (t) => [
    // "List newest first" pages on (created_at, id) within an account. NULLS FIRST is what a plain
    // ORDER BY ... DESC means, so the planner can use the index as is.
    index("generations_account_id_created_at_idx").on(
      t.accountId,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index("generations_account_id_status_idx").on(t.accountId, t.status),
    index("generations_project_id_created_at_idx").on(
      t.projectId,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    // The project feed (GET /v1/projects/:id/events) reads changes in order.
    index("generations_project_id_updated_at_idx").on(t.projectId, t.updatedAt),
    index("generations_asset_key_idx").on(t.assetKey),
    index("generations_content_hash_idx").on(t.contentHash),
    // At most one queued/running generation per dedup key runs on a GPU; later identical requests
    // conflict here and attach to it (merged_into_generation_id).
    uniqueIndex("generations_account_id_content_hash_in_flight_idx")
      .on(t.accountId, t.contentHash)
      .where(
        sql`${t.contentHash} is not null and ${t.mergedIntoGenerationId} is null and ${oneOf(t.status, ["queued", "running"])}`,
      ),
    index("generations_merged_into_generation_id_idx").on(t.mergedIntoGenerationId),
    index("generations_parent_generation_id_idx").on(t.parentGenerationId),
    // The lease sweep and the heartbeats' renewals read only the generations a region holds.
    index("generations_region_job_id_active_idx")
      .on(t.region, t.jobId)
      .where(sql`${oneOf(t.status, ["queued", "running"])}`),
    index("generations_lease_expires_at_active_idx")
      .on(t.leaseExpiresAt)
      .where(
        sql`${t.mergedIntoGenerationId} is null and ${oneOf(t.status, ["queued", "running"])}`,
      ),
    // NULL keys are distinct in Postgres, so requests without Idempotency-Key never collide.
    uniqueIndex("generations_account_id_idempotency_key_idx").on(t.accountId, t.idempotencyKey),
    // The review queue, oldest first.
    index("generations_review_pending_idx")
      .on(t.reviewOpenedAt)
      .where(sql`${t.reviewState} = 'pending'`),
    // Outputs hidden from all but their owners whose bytes still exist: what every isolate keeps
    // out of its response cache, and the removal sweep's work list.
    index("generations_hidden_asset_key_idx")
      .on(t.assetKey)
      .where(sql`${t.assetKey} is not null and ${oneOf(t.reviewState, ["pending", "removed"])}`),
    // Removed outputs whose bytes the sweep has still to delete.
    index("generations_removed_unpurged_idx")
      .on(t.reviewDecidedAt)
      .where(sql`${t.reviewState} = 'removed' and ${t.outputPurgedAt} is null`),
    check("generations_status_check", oneOf(t.status, GenerationStatus.options)),
    check(
      "generations_review_state_check",
      sql`${t.reviewState} is null or ${oneOf(t.reviewState, REVIEW_STATES)}`,
    ),
    check("generations_price_multiplier_check", sql`${t.priceMultiplier} > 0`),
    check("generations_mode_check", oneOf(t.mode, API_KEY_MODES)),
  ],
);

export type GenerationRow = typeof generations.$inferSelect;
export type NewGenerationRow = typeof generations.$inferInsert;
