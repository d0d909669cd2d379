import { and, asc, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Database, Transaction } from "../client/types.ts";
import { feedback } from "../schema/feedback.ts";
import { generations } from "../schema/generations.ts";
import {
  STYLE_EMBEDDING_DIMENSIONS,
  styleEmbeddings,
  type NewStyleEmbedding,
  type StyleEmbedding,
  type StyleVisibility,
} from "../schema/style-embeddings.ts";

function assertDimensions(embedding: readonly number[]): void {
  if (embedding.length !== STYLE_EMBEDDING_DIMENSIONS || !embedding.every(Number.isFinite)) {
    throw new RangeError(
      `style embedding must be ${STYLE_EMBEDDING_DIMENSIONS} finite numbers, got ${embedding.length}`,
    );
  }
}

/**
 * Records an output's style (once: a repeated call for the same generation changes nothing).
 * `indexedAt` null leaves it for the index sync.
 */
export async function recordStyle(
  db: Database | Transaction,
  values: NewStyleEmbedding,
): Promise<void> {
  assertDimensions(values.embedding);
  await db.insert(styleEmbeddings).values(values).onConflictDoNothing();
}

export async function getStyleRecord(
  db: Database,
  generationId: string,
): Promise<StyleEmbedding | null> {
  const [row] = await db
    .select()
    .from(styleEmbeddings)
    .where(eq(styleEmbeddings.generationId, generationId));
  return row ?? null;
}

/** Records whose current state the style index has not taken yet, oldest change first. */
export function unindexedStyleRecords(db: Database, limit: number): Promise<StyleEmbedding[]> {
  return db
    .select()
    .from(styleEmbeddings)
    .where(isNull(styleEmbeddings.indexedAt))
    .orderBy(asc(styleEmbeddings.updatedAt))
    .limit(limit);
}

/**
 * Marks records indexed, each only if it has not changed since it was read (`updatedAt` as read):
 * a change made meanwhile stays pending for the next sync.
 */
export async function markStyleIndexed(
  db: Database,
  read: ReadonlyArray<Pick<StyleEmbedding, "generationId" | "updatedAt">>,
  at: Date,
): Promise<void> {
  if (read.length === 0) return;
  const pairs = sql.join(
    read.map((r) => sql`(${r.generationId}, ${r.updatedAt.toISOString()}::timestamptz)`),
    sql`, `,
  );
  await db.execute(sql`
    update ${styleEmbeddings} set indexed_at = ${at}
    from (values ${pairs}) as read(id, updated_at)
    where ${styleEmbeddings.generationId} = read.id
      and ${styleEmbeddings.updatedAt} = read.updated_at
      and ${styleEmbeddings.indexedAt} is null`);
}

/**
 * Hides outputs from search (reported, removed) or shows them again; the index follows at its
 * next sync. Answers how many records changed.
 */
export async function setStyleHidden(
  db: Database,
  generationIds: readonly string[],
  hidden: boolean,
): Promise<number> {
  if (generationIds.length === 0) return 0;
  const rows = await db
    .update(styleEmbeddings)
    .set({ hidden, indexedAt: null })
    .where(
      and(
        inArray(styleEmbeddings.generationId, [...generationIds]),
        sql`${styleEmbeddings.hidden} <> ${hidden}`,
      ),
    )
    .returning({ id: styleEmbeddings.generationId });
  return rows.length;
}

/** A project's visibility changed: so does its outputs' (the index moves them at its next sync). */
export async function setProjectStyleVisibility(
  db: Database,
  projectId: string,
  visibility: StyleVisibility,
): Promise<number> {
  const rows = await db
    .update(styleEmbeddings)
    .set({ visibility, indexedAt: null })
    .where(
      and(
        eq(styleEmbeddings.projectId, projectId),
        sql`${styleEmbeddings.visibility} <> ${visibility}`,
      ),
    )
    .returning({ id: styleEmbeddings.generationId });
  return rows.length;
}

/**
 * The style record of another generation of `accountId` with the same output bytes: what a copy
 * (an answer from the dedup cache, a merged follower) shares with the generation that drew it.
 */
export async function findStyleRecordByOutput(
  db: Database,
  accountId: string,
  outputSha256: string,
): Promise<StyleEmbedding | null> {
  const [row] = await db
    .select({ record: styleEmbeddings })
    .from(styleEmbeddings)
    .innerJoin(generations, eq(generations.id, styleEmbeddings.generationId))
    .where(and(eq(generations.accountId, accountId), eq(generations.outputSha256, outputSha256)))
    .orderBy(asc(styleEmbeddings.createdAt))
    .limit(1);
  return row?.record ?? null;
}

/**
 * The outputs `accountId` liked, latest vote first, at most `limit`, each with its own style record
 * (null for a copy of another generation's output: the caller looks up the source's). Outputs that
 * are not succeeded, or are pending review or removed, are left out: a taste profile's material.
 */
export async function likedOutputs(
  db: Database,
  accountId: string,
  limit: number,
): Promise<{ row: typeof generations.$inferSelect; record: StyleEmbedding | null }[]> {
  return db
    .select({ row: generations, record: styleEmbeddings })
    .from(feedback)
    .innerJoin(generations, eq(generations.id, feedback.generationId))
    .leftJoin(styleEmbeddings, eq(styleEmbeddings.generationId, generations.id))
    .where(
      and(
        eq(feedback.accountId, accountId),
        eq(feedback.kind, "like"),
        eq(generations.status, "succeeded"),
        sql`${generations.reviewState} is distinct from 'pending'`,
        sql`${generations.reviewState} is distinct from 'removed'`,
      ),
    )
    .orderBy(desc(feedback.updatedAt), desc(feedback.id))
    .limit(limit);
}
