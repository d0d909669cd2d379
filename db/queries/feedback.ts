import { and, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { FeedbackKind, FeedbackReason } from "../../contracts/feedback.ts";
import type { Database } from "../client/types.ts";
import { assetFetches } from "../schema/asset-fetches.ts";
import { feedback, type Feedback } from "../schema/feedback.ts";
import { generations } from "../schema/generations.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";

export interface VoteInput {
  accountId: string;
  apiKeyId: string;
  generationId: string;
  kind: FeedbackKind;
  reason: FeedbackReason | null;
  comment: string | null;
  own: boolean;
  testMode: boolean;
  fetched: boolean;
  at: Date;
}

/**
 * The account's vote on the generation, written once per (account, generation): the same kind
 * again changes nothing but reason and comment (idempotent), another kind replaces it and moves
 * `updated_at`. Returns the row and the kind it held before (null: a new vote).
 */
export async function castVote(
  db: Database,
  v: VoteInput,
): Promise<{ row: Feedback; previousKind: FeedbackKind | null }> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ kind: feedback.kind })
      .from(feedback)
      .where(and(eq(feedback.accountId, v.accountId), eq(feedback.generationId, v.generationId)))
      .for("update");
    const changed = sql`${feedback.kind} is distinct from excluded.kind`;
    const [row] = await tx
      .insert(feedback)
      .values({ ...v, createdAt: v.at, updatedAt: v.at })
      .onConflictDoUpdate({
        target: [feedback.accountId, feedback.generationId],
        set: {
          reason: sql`excluded.reason`,
          comment: sql`excluded.comment`,
          apiKeyId: sql`excluded.api_key_id`,
          // A changed vote is a new vote: cast now, with what the voter had seen by now.
          kind: sql`excluded.kind`,
          testMode: sql`case when ${changed} then excluded.test_mode else ${feedback.testMode} end`,
          fetched: sql`case when ${changed} then excluded.fetched else ${feedback.fetched} end`,
          updatedAt: sql`case when ${changed} then excluded.updated_at else ${feedback.updatedAt} end`,
        },
      })
      .returning();
    if (!row) throw new Error("upsert into feedback returned no row");
    return { row, previousKind: before?.kind ?? null };
  });
}

/** Takes the account's vote back; the deleted row, or null when there was none. */
export async function withdrawVote(
  db: Database,
  accountId: string,
  generationId: string,
): Promise<Feedback | null> {
  const [row] = await db
    .delete(feedback)
    .where(and(eq(feedback.accountId, accountId), eq(feedback.generationId, generationId)))
    .returning();
  return row ?? null;
}

/** The account's votes, most recently cast first (keyset on updated_at, id). */
export async function listVotes(
  db: Database,
  accountId: string,
  { limit, cursor, kind }: { limit: number; cursor?: string; kind?: FeedbackKind },
): Promise<{ data: Feedback[]; nextCursor: string | null }> {
  const filters: SQL[] = [eq(feedback.accountId, accountId)];
  if (kind !== undefined) filters.push(eq(feedback.kind, kind));
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    filters.push(
      sql`(${feedback.updatedAt}, ${feedback.id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id})`,
    );
  }
  const rows = await db
    .select()
    .from(feedback)
    .where(and(...filters))
    .orderBy(desc(feedback.updatedAt), desc(feedback.id))
    .limit(limit + 1);
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  const nextCursor =
    rows.length > limit && last ? encodeCursor({ createdAt: last.updatedAt, id: last.id }) : null;
  return { data, nextCursor };
}

export type FeedbackCounts = { likes: number; dislikes: number; reports: number };

/** Votes held on each generation, by kind (generations without votes are absent). */
export async function feedbackCounts(
  db: Database,
  generationIds: readonly string[],
): Promise<Map<string, FeedbackCounts>> {
  const out = new Map<string, FeedbackCounts>();
  if (generationIds.length === 0) return out;
  const rows = await db
    .select({
      generationId: feedback.generationId,
      kind: feedback.kind,
      n: sql<number>`count(*)::int`,
    })
    .from(feedback)
    .where(inArray(feedback.generationId, [...new Set(generationIds)]))
    .groupBy(feedback.generationId, feedback.kind);
  for (const r of rows) {
    const counts = out.get(r.generationId) ?? { likes: 0, dislikes: 0, reports: 0 };
    counts[`${r.kind}s`] = r.n;
    out.set(r.generationId, counts);
  }
  return out;
}

/** The live reports on a generation by accounts other than its owner (reporters to weigh). */
export async function reportsOn(
  db: Database,
  generationId: string,
): Promise<{ accountId: string; reason: FeedbackReason | null }[]> {
  return db
    .select({ accountId: feedback.accountId, reason: feedback.reason })
    .from(feedback)
    .where(
      and(
        eq(feedback.generationId, generationId),
        eq(feedback.kind, "report"),
        eq(feedback.own, false),
        eq(feedback.testMode, false),
      ),
    );
}

/** A download of the asset by the account (one row per pair, counted). */
export async function recordAssetFetch(
  db: Database,
  accountId: string,
  assetKey: string,
  at: Date,
): Promise<void> {
  await db
    .insert(assetFetches)
    .values({ accountId, assetKey, firstFetchedAt: at, lastFetchedAt: at })
    .onConflictDoUpdate({
      target: [assetFetches.accountId, assetFetches.assetKey],
      set: { fetches: sql`${assetFetches.fetches} + 1`, lastFetchedAt: at },
    });
}

/** Whether the account has downloaded the generation's output. */
export async function hasFetchedOutput(
  db: Database,
  accountId: string,
  generationId: string,
): Promise<boolean> {
  const [row] = await db
    .select({ id: assetFetches.id })
    .from(assetFetches)
    .innerJoin(generations, eq(generations.assetKey, assetFetches.assetKey))
    .where(and(eq(generations.id, generationId), eq(assetFetches.accountId, accountId)))
    .limit(1);
  return row !== undefined;
}
