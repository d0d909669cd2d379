import { check, doublePrecision, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import type { Heartbeat } from "../../contracts/region-protocol.ts";
import { createdAt, microusd, oneOf, timestamptz, updatedAt } from "./_helpers.ts";

export const REGION_STATUSES = ["healthy", "degraded", "draining", "down"] as const;
export type RegionStatus = (typeof REGION_STATUSES)[number];

export const regions = pgTable(
  "regions",
  {
    /** e.g. "eu-west"; also the tag stored on generations and ledger rows. */
    name: text("name").primaryKey(),
    endpoint: text("endpoint").notNull(),
    lat: doublePrecision("lat").notNull(),
    lon: doublePrecision("lon").notNull(),
    gpuPricePerHourMicrousd: microusd("gpu_price_per_hour_microusd").notNull(),
    status: text("status", { enum: REGION_STATUSES }).notNull().default("down"),
    lastHeartbeatAt: timestamptz("last_heartbeat_at"),
    /** The latest heartbeat as received (queue depth per lane, warm models, ...). */
    heartbeat: jsonb("heartbeat").$type<Heartbeat>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check("regions_status_check", oneOf(t.status, REGION_STATUSES)),
    check("regions_lat_check", sql`${t.lat} between -90 and 90`),
    check("regions_lon_check", sql`${t.lon} between -180 and 180`),
  ],
);

export type Region = typeof regions.$inferSelect;
export type NewRegion = typeof regions.$inferInsert;
