import { and, count, eq, gte, inArray, isNotNull, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { voterWeights } from "../../edge/feedback/feedback-stats.ts";
import type { VersionStats } from "../../flywheel/rollout/policy.ts";
import type { Database } from "../client/types.ts";
import { feedback } from "../schema/feedback.ts";
import { generations } from "../schema/generations.ts";

export interface MetricsWindow {
  /** The versions to measure (model_versions.id). */
  versionIds: readonly string[];
  /** Only generations created at or after this (the comparison window); all when omitted. */
  since?: Date;
  /**
   * true (default): only votes that count for training (not on one's own output, not from a
   * test-mode key), each weighted by its voter's weight (edge/feedback/voter-weight.ts).
   * false: every vote, weight 1 (to compare with and without the controls).
   */
  fraudControls?: boolean;
}

const empty = (): VersionStats => ({
  served: 0,
  failed: 0,
  likes: 0,
  dislikes: 0,
  reports: 0,
  refines: 0,
});

/**
 * Per version: live generations served and failed, the votes on them (with fraud controls: those
 * that count for training, weighted per voter), and refines started from them.
 * Keyed by model_versions.id; every requested version is present.
 */
export async function versionStats(
  db: Database,
  window: MetricsWindow,
): Promise<Map<string, VersionStats>> {
  const out = new Map(window.versionIds.map((id) => [id, empty()]));
  if (window.versionIds.length === 0) return out;
  const inWindow: SQL[] = [
    inArray(generations.modelVersionId, [...window.versionIds]),
    eq(generations.mode, "live"),
  ];
  if (window.since) inWindow.push(gte(generations.createdAt, window.since));
  const where = and(...inWindow);
  const controls = window.fraudControls ?? true;

  const outcomes = await db
    .select({ version: generations.modelVersionId, status: generations.status, n: count() })
    .from(generations)
    .where(and(where, inArray(generations.status, ["succeeded", "failed"])))
    .groupBy(generations.modelVersionId, generations.status);
  for (const row of outcomes) {
    const stats = out.get(row.version!)!;
    if (row.status === "succeeded") stats.served += row.n;
    else stats.failed += row.n;
  }

  const votes = await db
    .select({
      version: generations.modelVersionId,
      account: feedback.accountId,
      kind: feedback.kind,
      n: count(),
    })
    .from(feedback)
    .innerJoin(generations, eq(generations.id, feedback.generationId))
    .where(controls ? and(where, eq(feedback.own, false), eq(feedback.testMode, false)) : where)
    .groupBy(generations.modelVersionId, feedback.accountId, feedback.kind);
  const weights = controls
    ? await voterWeights(db, [...new Set(votes.map((v) => v.account))])
    : new Map<string, number>();
  for (const row of votes) {
    const stats = out.get(row.version!)!;
    const weighted = row.n * (weights.get(row.account) ?? 1);
    if (row.kind === "like") stats.likes += weighted;
    else if (row.kind === "dislike") stats.dislikes += weighted;
    else stats.reports += weighted;
  }

  // Children whose derivation is a refine (an upscale is a resize, not a preference).
  const child = alias(generations, "child");
  const refines = await db
    .select({ version: generations.modelVersionId, n: count() })
    .from(child)
    .innerJoin(generations, eq(generations.id, child.parentGenerationId))
    .where(
      and(
        where,
        isNotNull(child.parentGenerationId),
        sql`${child.derivation}->>'kind' = 'refine'`,
        eq(child.mode, "live"),
      ),
    )
    .groupBy(generations.modelVersionId);
  for (const row of refines) out.get(row.version!)!.refines += row.n;
  return out;
}
