import { z } from "./zod.ts";

// GET /v1/usage (../shared/API.md, Account): counts, GPU time, cost and cache savings from the
// usage ledger, in totals and groups; `Accept: text/csv` exports the groups.

export const USAGE_GROUP_BY = ["hour", "day", "model", "project", "region", "key", "lane"] as const;

const time = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .describe("ISO-8601 date (UTC midnight) or date-time.");

export const UsageQuery = z.strictObject({
  from: time.optional().describe("Start (inclusive). Default: the start of this UTC month."),
  to: time.optional().describe("End (exclusive). Default: now."),
  group_by: z.enum(USAGE_GROUP_BY).optional(),
  mode: z
    .enum(["live", "test"])
    .optional()
    .describe("Default: the calling key's mode (test keys see test usage, never charged)."),
  project: z.string().max(64).optional().describe("Only this project's generations."),
});
export type UsageQuery = z.infer<typeof UsageQuery>;

export const UsageFigures = z
  .object({
    /** Generations accepted (answers from the dedup cache included). */
    requests: z.number().int(),
    /** Ran and charged. */
    succeeded: z.number().int(),
    /** Failed, blocked or canceled: refunded, cost 0. */
    refunded: z.number().int(),
    /** Answered from stored output: cost 0. */
    cached: z.number().int(),
    /** Still queued or running: their estimate is held in `reserved_usd`. */
    in_flight: z.number().int(),
    gpu_ms: z.number(),
    cost_usd: z.number(),
    reserved_usd: z.number(),
    /** What the cached answers would have cost. */
    saved_usd: z.number(),
    /** From acceptance to image, of generations that ran; null without any. */
    time_to_image_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
  })
  .openapi("UsageFigures");

export const UsageGroup = UsageFigures.extend({
  /** The bucket (`2026-11-27T13:00:00Z`, `2026-11-27`), `model@version`, or the id; null: untagged. */
  key: z.string().nullable(),
  /** A readable name for ids (project name, key name or prefix). */
  label: z.string().nullable(),
}).openapi("UsageGroup");

export const UsageReport = z
  .object({
    object: z.literal("usage"),
    from: z.string(),
    to: z.string(),
    group_by: z.enum(USAGE_GROUP_BY).nullable(),
    livemode: z.boolean(),
    currency: z.literal("usd"),
    totals: UsageFigures,
    data: z.array(UsageGroup),
  })
  .openapi("UsageReport");
export type UsageReport = z.infer<typeof UsageReport>;
