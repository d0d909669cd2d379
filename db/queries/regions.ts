import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { RegionName, type Heartbeat } from "../../contracts/region-protocol.ts";
import type { Database } from "../client/types.ts";
import { REGION_STATUSES, regions, type Region, type RegionStatus } from "../schema/regions.ts";

export const RegionInput = z.strictObject({
  name: RegionName,
  endpoint: z.url(),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  gpuPricePerHourMicrousd: z.number().int().nonnegative(),
  status: z.enum(REGION_STATUSES).optional(),
});
export type RegionInput = z.input<typeof RegionInput>;

/** Creates or reconfigures a region; status and heartbeat are kept unless `status` is given. */
export async function upsertRegion(db: Database, input: RegionInput): Promise<Region> {
  const values = RegionInput.parse(input);
  const { name, ...config } = values;
  const [row] = await db
    .insert(regions)
    .values(values)
    .onConflictDoUpdate({ target: regions.name, set: config })
    .returning();
  if (!row) throw new Error("upsert into regions returned no row");
  return row;
}

export async function listRegions(db: Database): Promise<Region[]> {
  return db.select().from(regions).orderBy(asc(regions.name));
}

export async function getRegion(db: Database, name: string): Promise<Region | null> {
  const [row] = await db.select().from(regions).where(eq(regions.name, name));
  return row ?? null;
}

/** Stores a region's latest heartbeat and the status the directory derived from it. */
export async function recordRegionHeartbeat(
  db: Database,
  name: string,
  { heartbeat, status, at = new Date() }: { heartbeat: Heartbeat; status: RegionStatus; at?: Date },
): Promise<Region | null> {
  const [row] = await db
    .update(regions)
    .set({ heartbeat, status, lastHeartbeatAt: at })
    .where(eq(regions.name, name))
    .returning();
  return row ?? null;
}
