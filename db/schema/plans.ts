import { sql } from "drizzle-orm";
import { check, doublePrecision, integer, pgTable, text } from "drizzle-orm/pg-core";
import { Priority } from "../../contracts/api.ts";
import { createdAt, microusd, oneOf, subsetOf, updatedAt } from "./_helpers.ts";

/** A request estimated over `max_cost_per_request`: refused (402), or moved to the relax lane. */
export const OVER_COST_CAP_RULES = ["refuse", "relax"] as const;
export type OverCostCapRule = (typeof OVER_COST_CAP_RULES)[number];

/** What an account may do and spend. Rows are data (seeded by `seedPlans`), not code constants. */
export const plans = pgTable(
  "plans",
  {
    /** Human-readable key such as "free", "pro", "enterprise". */
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    requestsPerMinute: integer("requests_per_minute").notNull(),
    concurrency: integer("concurrency").notNull(),
    /** null: no monthly cap (invoiced plans). */
    monthlySpendCapMicrousd: microusd("monthly_spend_cap_microusd"),
    maxPixels: integer("max_pixels").notNull(),
    /** Priorities (queue lanes) the plan may request, best first. */
    lanes: text("lanes").array().$type<Priority[]>().notNull(),
    /** null: no per-request ceiling. */
    maxCostPerRequestMicrousd: microusd("max_cost_per_request_microusd"),
    overCostCap: text("over_cost_cap", { enum: OVER_COST_CAP_RULES }).notNull().default("refuse"),
    /** Applied to the model version's price per megapixel. */
    priceMultiplier: doublePrecision("price_multiplier").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check("plans_requests_per_minute_check", sql`${t.requestsPerMinute} > 0`),
    check("plans_concurrency_check", sql`${t.concurrency} > 0`),
    check("plans_max_pixels_check", sql`${t.maxPixels} > 0`),
    check(
      "plans_lanes_check",
      sql`cardinality(${t.lanes}) > 0 and ${subsetOf(t.lanes, Priority.options)}`,
    ),
    check("plans_price_multiplier_check", sql`${t.priceMultiplier} > 0`),
    check("plans_over_cost_cap_check", oneOf(t.overCostCap, OVER_COST_CAP_RULES)),
  ],
);

export type Plan = typeof plans.$inferSelect;
export type NewPlan = typeof plans.$inferInsert;
