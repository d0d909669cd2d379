import { LaneChange, Priority } from "./api.ts";
import { z } from "./zod.ts";

// GET /v1/pricing and the answer of `"dry_run": true` (../shared/API.md, Account).

export const PriceEntry = z
  .object({
    object: z.literal("price"),
    model: z.string(),
    model_version: z.string(),
    lane: Priority,
    region: z.string(),
    /** Per second of GPU time, before the plan's multiplier. */
    gpu_second_usd: z.number(),
    /** Per output megapixel, before the plan's multiplier. */
    megapixel_usd: z.number(),
    /** The caller's plan multiplier, applied to both terms. */
    plan_multiplier: z.number(),
    /** What a 512x512 image costs the caller here, at the version's measured GPU time. */
    example_512_usd: z.number(),
  })
  .openapi("Price");

export const PriceList = z
  .object({
    object: z.literal("list"),
    /** The plan the prices are for, and its per-request cap and what happens past it. */
    plan: z.object({
      id: z.string(),
      price_multiplier: z.number(),
      max_cost_per_request_usd: z.number().nullable(),
      over_cost_cap: z.enum(["refuse", "relax"]),
      lanes: z.array(Priority),
    }),
    /** false for a test-mode key: nothing it runs is charged. */
    livemode: z.boolean(),
    data: z.array(PriceEntry),
  })
  .openapi("PriceList");

export const GenerationEstimate = z
  .object({
    object: z.literal("generation_estimate"),
    model: z.string(),
    model_version: z.string(),
    params: z.object({
      width: z.number().int(),
      height: z.number().int(),
      priority: Priority,
    }),
    lane_change: LaneChange.nullable(),
    /** The region expected to finish it soonest now; null when none is known. */
    region: z.string().nullable(),
    queue: z.object({ estimated_wait_ms: z.number().nullable() }),
    cost: z.object({ estimated_usd: z.number(), gpu_ms: z.number() }),
    livemode: z.boolean(),
  })
  .openapi("GenerationEstimate");
export type GenerationEstimate = z.infer<typeof GenerationEstimate>;
