import { and, asc, eq, inArray, isNull, lt, ne, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { GenerationStatus, TERMINAL_STATUSES } from "../../contracts/api.ts";
import type { Database } from "../client/types.ts";
import { generations, type GenerationRow, type NewGenerationRow } from "../schema/generations.ts";
import { findGenerationByIdempotencyKey } from "./generations.ts";

// Queries behind the edge's dedup cache and in-flight merge (edge/dedup). A "leader" is the one
// queued/running generation per (account, content_hash) that runs on a GPU; "followers" are the
// identical requests that arrived meanwhile (merged_into_generation_id = the leader).

const ACTIVE = GenerationStatus.options.filter((s) => !TERMINAL_STATUSES.has(s));

export type InsertOnceResult =
  | { kind: "created"; generation: GenerationRow }
  /** The account already used this Idempotency-Key: the earlier generation. */
  | { kind: "idempotent"; generation: GenerationRow }
  /** Identical work is already queued or running: its leader. */
  | { kind: "in_flight"; leader: GenerationRow };

/**
 * Writes a generation unless it collides with the account's earlier use of its Idempotency-Key or,
 * for a leader (content hash set, not merged, queued/running), with an identical one in flight.
 * The unique indexes decide, so concurrent identical requests cannot both become leaders.
 */
export async function insertGenerationOnce(
  db: Database,
  values: NewGenerationRow,
): Promise<InsertOnceResult> {
  // A conflicting row can stop conflicting before it is read back (it finished): insert again.
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const [inserted] = await db
      .insert(generations)
      .values(values)
      .onConflictDoNothing()
      .returning();
    if (inserted) return { kind: "created", generation: inserted };
    if (values.idempotencyKey != null) {
      const earlier = await findGenerationByIdempotencyKey(
        db,
        values.accountId,
        values.idempotencyKey,
      );
      if (earlier) return { kind: "idempotent", generation: earlier };
    }
    if (values.contentHash != null && values.mergedIntoGenerationId == null) {
      const leader = await findInFlightLeader(db, values.accountId, values.contentHash);
      if (leader) return { kind: "in_flight", leader };
    }
  }
  throw new Error("generation insert kept conflicting with rows that could not be read back");
}

/** The queued/running generation that runs the GPU job for this dedup key, if any. */
export async function findInFlightLeader(
  db: Database,
  accountId: string,
  contentHash: string,
): Promise<GenerationRow | null> {
  const [row] = await db
    .select()
    .from(generations)
    .where(
      and(
        eq(generations.accountId, accountId),
        eq(generations.contentHash, contentHash),
        isNull(generations.mergedIntoGenerationId),
        inArray(generations.status, ACTIVE),
      ),
    );
  return row ?? null;
}

/**
 * Leaders that ended while followers of theirs are still queued or running: the followers' ending
 * was cut short (a process stopped between the two). At most `limit`.
 */
export async function leadersEndedWithActiveFollowers(
  db: Database,
  limit: number,
): Promise<GenerationRow[]> {
  const follower = alias(generations, "follower");
  const rows = await db
    .selectDistinct({ leader: generations })
    .from(generations)
    .innerJoin(follower, eq(follower.mergedIntoGenerationId, generations.id))
    .where(
      and(
        inArray(follower.status, ACTIVE),
        sql`${generations.status} not in ('queued', 'running')`,
      ),
    )
    .limit(limit);
  return rows.map((r) => r.leader);
}

/** Followers of `leaderId` that are still queued or running, oldest first. */
export async function activeFollowers(db: Database, leaderId: string): Promise<GenerationRow[]> {
  return db
    .select()
    .from(generations)
    .where(
      and(eq(generations.mergedIntoGenerationId, leaderId), inArray(generations.status, ACTIVE)),
    )
    .orderBy(asc(generations.createdAt), asc(generations.id));
}

/** The leader started: its queued followers show `running` too. */
export async function markFollowersRunning(
  db: Database,
  leader: GenerationRow,
  at: Date,
): Promise<GenerationRow[]> {
  return db
    .update(generations)
    .set({
      status: "running",
      startedAt: at,
      region: leader.region,
      routedAt: leader.routedAt,
    })
    .where(and(eq(generations.mergedIntoGenerationId, leader.id), eq(generations.status, "queued")))
    .returning();
}

/**
 * The leader succeeded: its followers succeed with the same stored output, marked `cached` and at
 * zero GPU time and cost (the leader paid for the run).
 */
export async function completeFollowers(
  db: Database,
  leader: GenerationRow,
  at: Date,
): Promise<GenerationRow[]> {
  return db
    .update(generations)
    .set({
      status: "succeeded",
      cached: true,
      region: leader.region,
      routedAt: sql`coalesce(${generations.routedAt}, ${leader.routedAt?.toISOString() ?? null}::timestamptz)`,
      startedAt: sql`coalesce(${generations.startedAt}, ${(leader.startedAt ?? at).toISOString()}::timestamptz)`,
      completedAt: at,
      assetKey: leader.assetKey,
      contentType: leader.contentType,
      bytes: leader.bytes,
      width: leader.width,
      height: leader.height,
      outputSha256: leader.outputSha256,
      moderation: leader.moderation,
      gpuMs: 0,
      costActualMicrousd: 0,
    })
    .where(
      and(eq(generations.mergedIntoGenerationId, leader.id), inArray(generations.status, ACTIVE)),
    )
    .returning();
}

/** The leader failed or was blocked: its followers end the same way (the same inputs would). */
export async function failFollowers(
  db: Database,
  leader: GenerationRow & { status: "failed" | "blocked" },
  at: Date,
): Promise<GenerationRow[]> {
  return db
    .update(generations)
    .set({
      status: leader.status,
      error: leader.error,
      moderation: leader.moderation,
      region: leader.region,
      completedAt: at,
    })
    .where(
      and(eq(generations.mergedIntoGenerationId, leader.id), inArray(generations.status, ACTIVE)),
    )
    .returning();
}

/** Moves the active followers of `fromLeaderId` to `toLeaderId`; returns how many moved. */
export async function moveFollowers(
  db: Database,
  fromLeaderId: string,
  toLeaderId: string,
): Promise<number> {
  const moved = await db
    .update(generations)
    .set({ mergedIntoGenerationId: toLeaderId })
    .where(
      and(
        eq(generations.mergedIntoGenerationId, fromLeaderId),
        ne(generations.id, toLeaderId),
        inArray(generations.status, ACTIVE),
      ),
    )
    .returning({ id: generations.id });
  return moved.length;
}

/**
 * Makes `follower` a leader (it will run its own GPU job). Null when it cannot: it is no longer
 * queued, or another identical generation became the leader first (the unique index refuses).
 */
export async function promoteFollower(
  db: Database,
  follower: GenerationRow,
): Promise<GenerationRow | null> {
  let rows: GenerationRow[];
  try {
    rows = await db
      .update(generations)
      .set({ mergedIntoGenerationId: null })
      .where(
        and(
          eq(generations.id, follower.id),
          eq(generations.status, "queued"),
          sql`not exists (select 1 from ${generations} as g where g.account_id = ${follower.accountId} and g.content_hash = ${follower.contentHash} and g.merged_into_generation_id is null and g.status in ('queued', 'running'))`,
        ),
      )
      .returning();
  } catch (err) {
    // A new identical request became the leader between the check and the write.
    if (isUniqueViolation(err)) return null;
    throw err;
  }
  return rows[0] ?? null;
}

/** Postgres 23505, whether the driver error is thrown as is or wrapped (DrizzleQueryError). */
function isUniqueViolation(err: unknown): boolean {
  let e: unknown = err;
  while (typeof e === "object" && e !== null) {
    if ((e as { code?: unknown }).code === "23505") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Frees an Idempotency-Key whose generation was created before `before` (its 24 h are over), so a
 * new request may use it. True when the key was freed.
 */
export async function expireIdempotencyKey(
  db: Database,
  generationId: string,
  before: Date,
): Promise<boolean> {
  const freed = await db
    .update(generations)
    .set({ idempotencyKey: null, requestHash: null })
    .where(and(eq(generations.id, generationId), lt(generations.createdAt, before)))
    .returning({ id: generations.id });
  return freed.length > 0;
}
