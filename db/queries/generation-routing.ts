import { and, eq, sql } from "drizzle-orm";
import type { GenerationRouting } from "../../contracts/api.ts";
import type { Database } from "../client/types.ts";
import { generations, type GenerationRow } from "../schema/generations.ts";
import { placeholderFor, preparedFor, UNNAMED } from "./prepared.ts";

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
  // Once per accepted submit: built once per database session. updated_at is set here, since its
  // $onUpdate would otherwise be evaluated once, when the statement is built.
  const query = preparedFor(db, "generations_record_route", (d) =>
    d
      .update(generations)
      .set({
        region: placeholderFor("region", generations.region),
        routedAt: placeholderFor("at", generations.routedAt),
        estimatedWaitMs: placeholderFor("estimatedWaitMs", generations.estimatedWaitMs),
        costEstimatedMicrousd: placeholderFor(
          "costEstimatedMicrousd",
          generations.costEstimatedMicrousd,
        ),
        routing: placeholderFor("routing", generations.routing),
        updatedAt: placeholderFor("updatedAt", generations.updatedAt),
      })
      .where(and(eq(generations.id, sql.placeholder("id")), eq(generations.status, "queued")))
      .returning()
      .prepare(UNNAMED),
  );
  const [row] = await query.execute({ ...route, id, updatedAt: new Date() });
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
