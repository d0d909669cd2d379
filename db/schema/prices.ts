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
    /**
     * `model version|lane|region` with `*` for any (priceCell): one row per cell, wildcards
     * included (a unique index over the nullable columns would let two "any" rows coexist).
     */
    cell: text("cell").notNull(),
    /** null: the region's GPU price per hour / 3600. */
    gpuSecondMicrousd: doublePrecision("gpu_second_microusd"),
    megapixelMicrousd: microusd("megapixel_microusd").notNull().default(0),
    /** Scales both terms, e.g. 1.5 for the fast lane, 0.5 for relax. */
    multiplier: doublePrecision("multiplier").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("prices_cell_idx").on(t.cell),
    check("prices_lane_check", sql`${t.lane} is null or ${oneOf(t.lane, Priority.options)}`),
    check("prices_gpu_second_microusd_check", sql`${t.gpuSecondMicrousd} >= 0`),
    check("prices_megapixel_microusd_check", sql`${t.megapixelMicrousd} >= 0`),
    check("prices_multiplier_check", sql`${t.multiplier} > 0`),
  ],
);

export type Price = typeof prices.$inferSelect;
export type NewPrice = Omit<typeof prices.$inferInsert, "cell">;

/** The unique key of a row's cell. */
export const priceCell = (row: Pick<NewPrice, "modelVersionId" | "lane" | "region">) =>
  [row.modelVersionId, row.lane, row.region].map((v) => v ?? "*").join("|");
