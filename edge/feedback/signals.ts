import { aliasedTable, and, eq, gte, isNotNull, lt, ne, sql } from "drizzle-orm";
import { assetFetches } from "../../db/schema/asset-fetches.ts";
import type { FeedbackReason } from "../../contracts/feedback.ts";
import type { Database } from "../../db/client/types.ts";
import { feedback } from "../../db/schema/feedback.ts";
import { generations } from "../../db/schema/generations.ts";
import { voterWeights } from "./feedback-stats.ts";

export type SignalKind = "like" | "dislike" | "report" | "refine";

/** One preference signal on an output, as curation, training and rollout metrics read it. */
export interface FeedbackSignal {
  /** The feedback row's id; for a refine, the child generation's id. */
  id: string;
  /** The output the signal is about (for a refine: the parent that was refined). */
  generationId: string;
  model: string;
  modelVersion: string;
  /** Who gave it. */
  accountId: string;
  kind: SignalKind;
  reason: FeedbackReason | null;
  /** The child generation a refine created; null for votes. */
  refinedGenerationId: string | null;
  /** The giver's weight after fraud controls (voter-weight.ts), in [0.02, 1]; 1 without them. */
  weight: number;
  /**
   * Whether it may enter training data: never from a test-mode key, and for votes never on the
   * voter's own output (refining your own output is the signal a refine is, so it counts).
   */
  counts: boolean;
  own: boolean;
  testMode: boolean;
  /** The voter had downloaded the output before voting (always true for a refine). */
  fetched: boolean;
  /** The output is hidden by reports or removed after review: curation should leave it out. */
  hidden: boolean;
  at: Date;
}

export interface SignalQuery {
  /** Signals cast at or after / before these times (votes: when the current kind was cast). */
  since?: Date;
  until?: Date;
  /** false: every weight is 1 and own and test-mode signals count (for comparisons only). */
  fraudControls?: boolean;
}

const isHidden = (state: string | null) => state === "pending" || state === "removed";

/**
 * Every feedback row and every refine, with the giver's weight and whether it counts for
 * training; ordered by time, then id, so the same database state reads the same list.
 */
export async function readFeedbackSignals(
  db: Database,
  { since, until, fraudControls = true }: SignalQuery = {},
): Promise<FeedbackSignal[]> {
  const [votes, refines] = await Promise.all([
    readVotes(db, since, until),
    readRefines(db, since, until),
  ]);
  const signals = [...votes, ...refines].sort(
    (a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  if (!fraudControls) {
    return signals.map((s) => ({ ...s, weight: 1, counts: true }));
  }
  const weights = await voterWeights(db, [...new Set(signals.map((s) => s.accountId))]);
  for (const s of signals) s.weight = weights.get(s.accountId) ?? 1;
  return signals;
}

async function readVotes(db: Database, since?: Date, until?: Date): Promise<FeedbackSignal[]> {
  const rows = await db
    .select({
      id: feedback.id,
      generationId: feedback.generationId,
      model: generations.model,
      modelVersion: generations.modelVersion,
      accountId: feedback.accountId,
      kind: feedback.kind,
      reason: feedback.reason,
      own: feedback.own,
      testMode: feedback.testMode,
      fetched: feedback.fetched,
      reviewState: generations.reviewState,
      at: feedback.updatedAt,
    })
    .from(feedback)
    .innerJoin(generations, eq(generations.id, feedback.generationId))
    .where(
      and(
        since ? gte(feedback.updatedAt, since) : undefined,
        until ? lt(feedback.updatedAt, until) : undefined,
      ),
    );
  return rows.map(({ reviewState, ...r }) => ({
    ...r,
    refinedGenerationId: null,
    weight: 1,
    counts: !r.own && !r.testMode,
    hidden: isHidden(reviewState),
  }));
}

async function readRefines(db: Database, since?: Date, until?: Date): Promise<FeedbackSignal[]> {
  const parent = aliasedTable(generations, "parent");
  const filters = [
    isNotNull(generations.parentGenerationId),
    // Children that are refines (an upscale is a resize, not a preference).
    sql`${generations.derivation}->>'kind' = 'refine'`,
  ];
  if (since) filters.push(gte(generations.createdAt, since));
  if (until) filters.push(lt(generations.createdAt, until));
  const rows = await db
    .select({
      id: generations.id,
      generationId: parent.id,
      model: parent.model,
      modelVersion: parent.modelVersion,
      accountId: generations.accountId,
      owner: parent.accountId,
      mode: generations.mode,
      reviewState: parent.reviewState,
      at: generations.createdAt,
    })
    .from(generations)
    .innerJoin(parent, eq(parent.id, generations.parentGenerationId))
    .where(and(...filters));
  return rows.map((r) => ({
    id: r.id,
    generationId: r.generationId,
    model: r.model,
    modelVersion: r.modelVersion,
    accountId: r.accountId,
    kind: "refine" as const,
    reason: null,
    refinedGenerationId: r.id,
    weight: 1,
    counts: r.mode !== "test",
    own: r.accountId === r.owner,
    testMode: r.mode === "test",
    fetched: true,
    hidden: isHidden(r.reviewState),
    at: r.at,
  }));
}

/** Downloads of an output by accounts other than its owner (curation's engagement signal). */
export interface OutputDownloads {
  /** Distinct accounts that downloaded it. */
  downloaders: number;
  /** Their downloads in all. */
  fetches: number;
}

/** Per generation with downloads by others: how many accounts fetched its bytes, and how often. */
export async function readDownloads(db: Database): Promise<Map<string, OutputDownloads>> {
  const rows = await db
    .select({
      generationId: generations.id,
      downloaders: sql<number>`count(distinct ${assetFetches.accountId})::int`,
      fetches: sql<number>`sum(${assetFetches.fetches})::int`,
    })
    .from(generations)
    .innerJoin(
      assetFetches,
      and(
        eq(assetFetches.assetKey, generations.assetKey),
        ne(assetFetches.accountId, generations.accountId),
      ),
    )
    .groupBy(generations.id);
  return new Map(rows.map(({ generationId, ...d }) => [generationId, d]));
}
