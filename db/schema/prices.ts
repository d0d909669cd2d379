import { sql } from "drizzle-orm";
import { check, doublePrecision, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { Priority } from "../../contracts/api.ts";
import { newId } from "../../contracts/ids.ts";
import { createdAt, microusd, nonEmpty, oneOf, updatedAt } from "./_helpers.ts";
import { modelVersions } from "./models.ts";

/**
 * The price table: what a generation costs per GPU-second and per output megapixel, for a model
 * version x lane x region. A null column matches any value; the most specific row wins (model
 * version, then region, then lane). Without a matching row the region's GPU price per hour applies.
 * The plan's `price_multiplier` is applied on top.
 */
export const prices = pgTable(
  "prices",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("price")),
    modelVersionId: text("model_version_id").references(() => modelVersions.id, {
      onDelete: "cascade",
    }),
    lane: text("lane", { enum: nonEmpty(Priority.options) }),
    region: text("region"),
    /** null: the region's GPU price per hour / 3600. */
    gpuSecondMicrousd: doublePrecision("gpu_second_microusd"),
    megapixelMicrousd: microusd("megapixel_microusd").notNull().default(0),
    /** Scales both terms, e.g. 1.5 for the fast lane, 0.5 for relax. */
    multiplier: doublePrecision("multiplier").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("prices_model_version_id_lane_region_idx").on(
      sql`coalesce(${t.modelVersionId}, '')`,
      sql`coalesce(${t.lane}, '')`,
      sql`coalesce(${t.region}, '')`,
    ),
    check("prices_lane_check", sql`${t.lane} is null or ${oneOf(t.lane, Priority.options)}`),
    check("prices_gpu_second_microusd_check", sql`${t.gpuSecondMicrousd} >= 0`),
    check("prices_megapixel_microusd_check", sql`${t.megapixelMicrousd} >= 0`),
    check("prices_multiplier_check", sql`${t.multiplier} > 0`),
  ],
);

export type Price = typeof prices.$inferSelect;
export type NewPrice = typeof prices.$inferInsert;
