import { check, doublePrecision, integer, jsonb, index, pgTable, text } from "drizzle-orm/pg-core";
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
    /** The latest heartbeat as received (queue depth per lane, warm models, ...), without its job list. */
    heartbeat: jsonb("heartbeat").$type<Heartbeat>(),
    /** Jobs taken away from this region and dispatched again (edge/generations/redispatch.ts). */
    redispatches: integer("redispatches").notNull().default(0),
    /** Of those, the jobs whose lease ran out. */
    leaseExpiries: integer("lease_expiries").notNull().default(0),
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

/**
 * The nodes of each region as their heartbeats last showed them: the lease sweep reads whether the
 * node holding a job is still alive, on every runtime (Workers isolates share nothing else).
 */
export const regionNodes = pgTable(
  "region_nodes",
  {
    /** `<region>/<node id>`: one column, since drizzle-kit cannot introspect a composite key on PGlite. */
    id: text("id").primaryKey(),
    region: text("region")
      .notNull()
      .references(() => regions.name, { onDelete: "cascade" }),
    nodeId: text("node_id").notNull(),
    lastHeartbeatAt: timestamptz("last_heartbeat_at").notNull(),
    /** Whose jobs its heartbeats list: its own queue (`node`) or the region's shared one. */
    holdsScope: text("holds_scope", { enum: ["node", "region"] }),
  },
  (t) => [
    index("region_nodes_region_idx").on(t.region),
    check("region_nodes_holds_scope_check", oneOf(t.holdsScope, ["node", "region"])),
  ],
);

export type RegionNode = typeof regionNodes.$inferSelect;
