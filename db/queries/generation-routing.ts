import { and, eq } from "drizzle-orm";
import type { GenerationRouting } from "../../contracts/api.ts";
import type { Database } from "../client/types.ts";
import { generations, type GenerationRow } from "../schema/generations.ts";

export interface RouteRecord {
  region: string;
  estimatedWaitMs: number | null;
  /** The estimate priced at the accepting region. */
  costEstimatedMicrousd: number;
  routing: GenerationRouting;
  at: Date;
}

/**
 * A region accepted the job: region, estimate, price there and the decision behind it, in one write.
 * Only while still queued (an event may have moved it on); null when nothing changed.
 */
export async function recordGenerationRoute(
  db: Database,
  id: string,
  route: RouteRecord,
): Promise<GenerationRow | null> {
  const [row] = await db
    .update(generations)
    .set({
      region: route.region,
      routedAt: route.at,
      estimatedWaitMs: route.estimatedWaitMs,
      costEstimatedMicrousd: route.costEstimatedMicrousd,
      routing: route.routing,
    })
    .where(and(eq(generations.id, id), eq(generations.status, "queued")))
    .returning();
  return row ?? null;
}

/** Stores the decision of a dispatch no region accepted (the row is failed by the caller). */
export async function recordRoutingAttempts(
  db: Database,
  id: string,
  routing: GenerationRouting,
): Promise<GenerationRow | null> {
  const [row] = await db
    .update(generations)
    .set({ routing })
    .where(eq(generations.id, id))
    .returning();
  return row ?? null;
}
