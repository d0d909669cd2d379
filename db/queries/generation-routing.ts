import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
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
  /** The region's id for the job, the node holding it (null: the region's shared queue), and the
   * lease's deadline (edge/generations/leases.ts). */
  jobId: string;
  leaseHolder: string | null;
  leaseExpiresAt: Date;
}

/**
 * A region accepted the job: region, estimate, price there, the decision behind it and the job's
 * lease, in one write. Only while in flight and not held by another dispatch; null otherwise.
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
        jobId: placeholderFor("jobId", generations.jobId),
        leaseHolder: placeholderFor("leaseHolder", generations.leaseHolder),
        leaseExpiresAt: placeholderFor("leaseExpiresAt", generations.leaseExpiresAt),
        updatedAt: placeholderFor("updatedAt", generations.updatedAt),
      })
      // Not once it has ended, nor while another dispatch holds it (a sweep that took it over
      // after a slow answer). Its `running` event may have come first, naming this job.
      .where(
        and(
          eq(generations.id, sql.placeholder("id")),
          inArray(generations.status, ["queued", "running"]),
          or(isNull(generations.jobId), eq(generations.jobId, sql.placeholder("jobId"))),
        ),
      )
      .returning()
      .prepare(UNNAMED),
  );
  const [row] = await query.execute({ ...route, id, updatedAt: new Date() });
  return row ?? null;
}
