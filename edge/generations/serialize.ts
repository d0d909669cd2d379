import type { Generation, PublicGeneration } from "../../contracts/api.ts";
import type { FeedbackCounts } from "../../db/queries/feedback.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { signedAssetPath } from "../assets/asset-url.ts";
import { attemptsOf } from "./leases.ts";
import { microusdToUsd } from "./pricing.ts";
import { publicStyleOf } from "./resolve-style.ts";

export interface SerializeContext {
  /** Absolute base of output URLs (publicUrl, or the request's origin). */
  baseUrl: string;
  assetUrlSecret: string;
  assetUrlTtlS?: number;
  now: number;
  /** Reads the votes held on generations (feedbackCounts); absent: `feedback` is left out. */
  feedbackCounts?: (ids: string[]) => Promise<Map<string, FeedbackCounts>>;
}

const NO_VOTES: FeedbackCounts = { likes: 0, dislikes: 0, reports: 0 };

/** Votes are cast only on succeeded outputs: other rows need no lookup. */
async function countsFor(
  rows: readonly GenerationRow[],
  ctx: SerializeContext,
): Promise<Map<string, FeedbackCounts> | null> {
  if (!ctx.feedbackCounts) return null;
  const ids = rows.filter((r) => r.status === "succeeded").map((r) => r.id);
  return ids.length === 0 ? new Map() : ctx.feedbackCounts(ids);
}

/** toGeneration over a page of rows, with one lookup of their votes. */
export async function toGenerations(
  rows: readonly GenerationRow[],
  ctx: SerializeContext,
): Promise<Generation[]> {
  const counts = await countsFor(rows, ctx);
  return Promise.all(rows.map((row) => toGeneration(row, ctx, counts)));
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The one mapping from a generations row to the public Generation of API.md. */
export async function toGeneration(
  row: GenerationRow,
  ctx: SerializeContext,
  counts?: Map<string, FeedbackCounts> | null,
): Promise<Generation> {
  const votes = counts === undefined ? await countsFor([row], ctx) : counts;
  const self = `/v1/generations/${row.id}`;
  const output =
    row.status === "succeeded" && row.assetKey !== null
      ? {
          url:
            ctx.baseUrl.replace(/\/+$/, "") +
            (await signedAssetPath(row.assetKey, ctx.assetUrlSecret, ctx.now, ctx.assetUrlTtlS)),
          content_type: row.contentType ?? "application/octet-stream",
          width: row.width ?? row.params.width,
          height: row.height ?? row.params.height,
          bytes: row.bytes ?? 0,
          sha256: row.outputSha256 ?? "",
        }
      : null;
  return {
    id: row.id,
    object: "generation",
    status: row.status,
    prompt: row.prompt,
    negative_prompt: row.negativePrompt,
    model: row.model,
    model_version: row.modelVersion,
    params: row.params,
    project: row.projectId,
    metadata: row.metadata,
    region: row.region,
    cached: row.cached,
    created_at: row.createdAt.toISOString(),
    started_at: iso(row.startedAt),
    completed_at: iso(row.completedAt),
    queue: { estimated_wait_ms: row.estimatedWaitMs },
    output,
    error: row.error ?? null,
    cost: {
      estimated_usd: microusdToUsd(row.costEstimatedMicrousd),
      actual_usd: row.costActualMicrousd === null ? null : microusdToUsd(row.costActualMicrousd),
      gpu_ms: row.gpuMs,
    },
    urls: { self, events: `${self}/events`, cancel: `${self}/cancel` },
    routing: row.routing ?? null,
    attempts: attemptsOf(row),
    livemode: row.mode === "live",
    lane_change: row.laneChange ?? null,
    parent_id: row.parentGenerationId,
    style: row.style && publicStyleOf(row.style),
    ...(votes ? { feedback: votes.get(row.id) ?? NO_VOTES } : {}),
    review:
      row.reviewState === null
        ? null
        : {
            state: row.reviewState,
            opened_at: iso(row.reviewOpenedAt),
            decided_at: iso(row.reviewDecidedAt),
          },
  };
}

/** Another account's public output as search shows it: what it is, never what it cost or carried. */
export async function toPublicGeneration(
  row: GenerationRow,
  ctx: SerializeContext,
): Promise<PublicGeneration> {
  const full = await toGeneration(row, ctx, null);
  return {
    id: full.id,
    object: full.object,
    status: full.status,
    prompt: full.prompt,
    model: full.model,
    model_version: full.model_version,
    params: full.params,
    project: full.project,
    created_at: full.created_at,
    completed_at: full.completed_at,
    output: full.output,
    parent_id: full.parent_id,
  };
}
