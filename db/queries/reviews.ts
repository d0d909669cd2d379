import { and, asc, eq, inArray, isNotNull, isNull, ne, or, sql, type SQL } from "drizzle-orm";
import type { ReviewState } from "../../contracts/feedback.ts";
import type { Database } from "../client/types.ts";
import { generations, type GenerationRow } from "../schema/generations.ts";
import { projects, type ProjectVisibility } from "../schema/projects.ts";

/** Review states in which an output is hidden from everyone but its owner. */
export const HIDDEN_REVIEW_STATES = ["pending", "removed"] as const satisfies ReviewState[];

export const isHiddenState = (state: ReviewState | null) =>
  state === "pending" || state === "removed";

/** SQL: the generation is visible to accounts other than its owner (never reported past the threshold, or approved). */
export const visibleToOthers = (): SQL =>
  or(isNull(generations.reviewState), eq(generations.reviewState, "approved")) ?? sql`true`;

/** A generation with its project's visibility, for a caller that may not own it. */
export type ViewedGeneration = { row: GenerationRow; visibility: ProjectVisibility };

/** The generation with its visibility (generations outside any project are private). */
export async function getGenerationWithVisibility(
  db: Database,
  id: string,
): Promise<ViewedGeneration | null> {
  const [found] = await db
    .select({
      row: generations,
      visibility: sql<ProjectVisibility>`coalesce(${projects.visibility}, 'private')`,
    })
    .from(generations)
    .leftJoin(projects, eq(projects.id, generations.projectId))
    .where(eq(generations.id, id))
    .limit(1);
  return found ?? null;
}

/**
 * Reports passed the threshold: the output is hidden and enters the review queue. Only once: an
 * output already pending, approved or removed is left as it is. The updated row, or null.
 */
export async function openReview(
  db: Database,
  generationId: string,
  at: Date,
): Promise<GenerationRow | null> {
  const [row] = await db
    .update(generations)
    .set({ reviewState: "pending", reviewOpenedAt: at })
    .where(and(eq(generations.id, generationId), isNull(generations.reviewState)))
    .returning();
  return row ?? null;
}

/** The review queue, oldest first. */
export async function listPendingReviews(
  db: Database,
  { limit = 100 }: { limit?: number } = {},
): Promise<GenerationRow[]> {
  return db
    .select()
    .from(generations)
    .where(eq(generations.reviewState, "pending"))
    .orderBy(asc(generations.reviewOpenedAt), asc(generations.id))
    .limit(limit);
}

/**
 * A reviewer's decision. `approved`: a pending output is visible again (and stays so: later
 * reports do not hide it again). `removed`: the output, pending or not, is hidden for good, with
 * every other generation whose output is the same bytes (one content-addressed key); the edge's
 * sweep then deletes the bytes (unpurgedRemovals, markPurged). Returns the generations changed (none: unknown
 * id, or a decision its state does not allow).
 */
export async function decideReview(
  db: Database,
  generationId: string,
  decision: "approved" | "removed",
  at: Date,
): Promise<GenerationRow[]> {
  if (decision === "approved") {
    return db
      .update(generations)
      .set({ reviewState: "approved", reviewDecidedAt: at })
      .where(and(eq(generations.id, generationId), eq(generations.reviewState, "pending")))
      .returning();
  }
  return db.transaction(async (tx) => {
    const [target] = await tx
      .select({ id: generations.id, assetKey: generations.assetKey })
      .from(generations)
      .where(eq(generations.id, generationId))
      .for("update");
    if (!target) return [];
    const same =
      target.assetKey === null
        ? eq(generations.id, target.id)
        : or(eq(generations.id, target.id), eq(generations.assetKey, target.assetKey));
    return tx
      .update(generations)
      .set({
        reviewState: "removed",
        reviewDecidedAt: at,
        reviewOpenedAt: sql`coalesce(${generations.reviewOpenedAt}, ${at.toISOString()}::timestamptz)`,
      })
      .where(and(same, or(isNull(generations.reviewState), ne(generations.reviewState, "removed"))))
      .returning();
  });
}

/** Removed outputs whose bytes may still be stored: the sweep's work list, oldest decision first. */
export async function unpurgedRemovals(
  db: Database,
  { limit = 100 }: { limit?: number } = {},
): Promise<{ id: string; assetKey: string | null; region: string | null }[]> {
  return db
    .select({ id: generations.id, assetKey: generations.assetKey, region: generations.region })
    .from(generations)
    .where(and(eq(generations.reviewState, "removed"), isNull(generations.outputPurgedAt)))
    .orderBy(asc(generations.reviewDecidedAt), asc(generations.id))
    .limit(limit);
}

/** The removed output's bytes are deleted everywhere they were stored. */
export async function markPurged(db: Database, id: string, at: Date): Promise<void> {
  await db
    .update(generations)
    .set({ outputPurgedAt: at })
    .where(and(eq(generations.id, id), eq(generations.reviewState, "removed")));
}

/**
 * Asset keys no one but their owners may read: pending review, or removed (kept after the purge,
 * so cached copies anywhere keep being refused).
 */
export async function hiddenAssetKeys(db: Database): Promise<Set<string>> {
  const rows = await db
    .selectDistinct({ assetKey: sql<string>`${generations.assetKey}` })
    .from(generations)
    .where(
      and(
        inArray(generations.reviewState, [...HIDDEN_REVIEW_STATES]),
        isNotNull(generations.assetKey),
      ),
    );
  return new Set(rows.map((r) => r.assetKey));
}
