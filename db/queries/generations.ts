import { and, asc, desc, eq, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import {
  GenerationStatus,
  TERMINAL_STATUSES,
  type GenerationAttempt,
  type GenerationRouting,
} from "../../contracts/api.ts";
import type { Database } from "../client/types.ts";
import {
  generations,
  type GenerationErrorBody,
  type GenerationModeration,
  type GenerationRow,
  type NewGenerationRow,
} from "../schema/generations.ts";
import { projects, type ProjectVisibility } from "../schema/projects.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { preparedFor, UNNAMED } from "./prepared.ts";
import { visibleToOthers } from "./reviews.ts";

const ACTIVE_STATUSES = GenerationStatus.options.filter((s) => !TERMINAL_STATUSES.has(s));

export type GenerationPatch = Partial<Omit<NewGenerationRow, "id" | "accountId" | "createdAt">>;

/**
 * Writes a new generation (normally `queued`). When the account already used the row's
 * `idempotencyKey`, nothing is written and the earlier generation comes back with
 * `created: false`; the caller compares `requestHash` to tell a replay from a conflict (409).
 */
export async function insertGeneration(
  db: Database,
  values: NewGenerationRow,
): Promise<{ generation: GenerationRow; created: boolean }> {
  const [inserted] = await db
    .insert(generations)
    .values(values)
    .onConflictDoNothing({ target: [generations.accountId, generations.idempotencyKey] })
    .returning();
  if (inserted) return { generation: inserted, created: true };
  const existing =
    values.idempotencyKey == null
      ? null
      : await findGenerationByIdempotencyKey(db, values.accountId, values.idempotencyKey);
  if (!existing) throw new Error("generation insert conflicted but no earlier row was found");
  return { generation: existing, created: false };
}

export async function findGenerationByIdempotencyKey(
  db: Database,
  accountId: string,
  idempotencyKey: string,
): Promise<GenerationRow | null> {
  const [row] = await db
    .select()
    .from(generations)
    .where(
      and(eq(generations.accountId, accountId), eq(generations.idempotencyKey, idempotencyKey)),
    );
  return row ?? null;
}

/** Internal lookup by id (region callbacks, workers); API reads use getGenerationForAccount. */
export async function getGeneration(db: Database, id: string): Promise<GenerationRow | null> {
  const [row] = await db.select().from(generations).where(eq(generations.id, id));
  return row ?? null;
}

/** The generation if the account owns it; null for unknown ids and other accounts' ids alike. */
export async function getGenerationForAccount(
  db: Database,
  accountId: string,
  id: string,
): Promise<GenerationRow | null> {
  const [row] = await db
    .select()
    .from(generations)
    .where(and(eq(generations.id, id), eq(generations.accountId, accountId)));
  return row ?? null;
}

export const ListGenerationsOptions = z.strictObject({
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  projectId: z.string().min(1).optional(),
  status: GenerationStatus.optional(),
  /** Leave out other accounts' outputs hidden by reports (lists shared with this account). */
  visibleTo: z.string().min(1).optional(),
});
export type ListGenerationsOptions = z.input<typeof ListGenerationsOptions>;

/**
 * The account's generations, newest first, `limit` per page. `nextCursor` is null on the last page.
 * `accountId` null lists a project's generations of every account (the caller checked membership).
 * Throws InvalidCursorError for a cursor this function did not issue.
 */
export async function listGenerations(
  db: Database,
  accountId: string | null,
  options: ListGenerationsOptions = {},
): Promise<{ data: GenerationRow[]; nextCursor: string | null }> {
  const { limit, cursor, projectId, status, visibleTo } = ListGenerationsOptions.parse(options);
  if (accountId === null && projectId === undefined) throw new Error("list by account or project");
  const filters: SQL[] = accountId === null ? [] : [eq(generations.accountId, accountId)];
  if (projectId !== undefined) filters.push(eq(generations.projectId, projectId));
  // Others' outputs hidden by reports leave shared lists.
  if (visibleTo !== undefined) {
    filters.push(or(eq(generations.accountId, visibleTo), visibleToOthers()) ?? sql`false`);
  }
  if (status !== undefined) filters.push(eq(generations.status, status));
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    filters.push(
      sql`(${generations.createdAt}, ${generations.id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id})`,
    );
  }
  const rows = await db
    .select()
    .from(generations)
    .where(and(...filters))
    .orderBy(desc(generations.createdAt), desc(generations.id))
    .limit(limit + 1);
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  const nextCursor =
    rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
  return { data, nextCursor };
}

/** Unconditional update of the given columns; null when the id is unknown. */
export async function updateGeneration(
  db: Database,
  id: string,
  patch: GenerationPatch,
): Promise<GenerationRow | null> {
  const [row] = await db.update(generations).set(patch).where(eq(generations.id, id)).returning();
  return row ?? null;
}

// The transitions below change a row only from the states that allow it, so duplicated or late
// events (a retry, a cancel racing a start) cannot move a generation backwards. Each returns the
// updated row, or null when nothing changed (unknown id, or a state that does not allow it).

/** Records the region the edge dispatched to (again on failover), while still queued. */
export async function markGenerationRouted(
  db: Database,
  id: string,
  {
    region,
    estimatedWaitMs,
    at = new Date(),
  }: { region: string; estimatedWaitMs?: number; at?: Date },
): Promise<GenerationRow | null> {
  const [row] = await db
    .update(generations)
    .set({ region, routedAt: at, estimatedWaitMs: estimatedWaitMs ?? null })
    .where(and(eq(generations.id, id), eq(generations.status, "queued")))
    .returning();
  return row ?? null;
}

/**
 * queued -> running. With `jobId`, only for that dispatch: the current one, or the one in flight
 * whose route is not recorded yet (a region may start a job before the edge has its answer).
 */
export async function markGenerationRunning(
  db: Database,
  id: string,
  { region, jobId, at = new Date() }: { region?: string; jobId?: string; at?: Date } = {},
): Promise<GenerationRow | null> {
  const [row] = await db
    .update(generations)
    .set({
      status: "running",
      startedAt: at,
      ...(region === undefined ? {} : { region }),
      ...(jobId === undefined ? {} : { jobId }),
    })
    .where(
      and(
        eq(generations.id, id),
        eq(generations.status, "queued"),
        ...(jobId === undefined
          ? []
          : [sql`(${generations.jobId} is null or ${generations.jobId} = ${jobId})`]),
      ),
    )
    .returning();
  return row ?? null;
}

export const GenerationResult = z.object({
  assetKey: z.string().min(1),
  contentType: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  outputSha256: z.string().regex(/^[0-9a-f]{64}$/),
  gpuMs: z.number().int().nonnegative(),
  costActualMicrousd: z.number().int().nonnegative(),
  region: z.string().min(1).optional(),
  /** The dispatch whose output this is, when it is not the current one (an earlier attempt won). */
  jobId: z.string().min(1).optional(),
  /** The current dispatch, given up because `jobId`'s came first (appended to the history). */
  superseded: z.custom<GenerationAttempt>((v) => typeof v === "object" && v !== null).optional(),
  /** Set when the start event was missed (or the answer came from the dedup cache). */
  startedAt: z.date().optional(),
  completedAt: z.date().optional(),
  cached: z.boolean().optional(),
  moderation: z.custom<GenerationModeration>((v) => typeof v === "object" && v !== null).optional(),
});
export type GenerationResult = z.input<typeof GenerationResult>;

/** queued|running -> succeeded, with the output and its measured cost. */
export async function completeGeneration(
  db: Database,
  id: string,
  result: GenerationResult,
): Promise<GenerationRow | null> {
  const {
    startedAt,
    completedAt = new Date(),
    region,
    moderation,
    cached,
    jobId,
    superseded,
    ...output
  } = GenerationResult.parse(result);
  const [row] = await db
    .update(generations)
    .set({
      ...output,
      status: "succeeded",
      completedAt,
      startedAt: sql`coalesce(${generations.startedAt}, ${(startedAt ?? completedAt).toISOString()}::timestamptz)`,
      ...(region === undefined ? {} : { region }),
      ...(moderation === undefined ? {} : { moderation }),
      ...(cached === undefined ? {} : { cached }),
      ...winningAttempt(jobId, superseded),
    })
    .where(and(eq(generations.id, id), inArray(generations.status, ACTIVE_STATUSES)))
    .returning();
  return row ?? null;
}

/** A result from an earlier dispatch than the current one: the current one is given up. */
function winningAttempt(jobId: string | undefined, superseded: GenerationAttempt | undefined) {
  return {
    ...(jobId === undefined ? {} : { jobId }),
    ...(superseded === undefined
      ? {}
      : { attempts: sql`${generations.attempts} || ${JSON.stringify([superseded])}::jsonb` }),
  };
}

export interface GenerationFailure {
  error: GenerationErrorBody;
  status?: "failed" | "blocked";
  at?: Date;
  moderation?: GenerationModeration;
  /** The routing decision behind the failure (no region took the job). */
  routing?: GenerationRouting;
  /** Only while this dispatch is the current one (null: while none is). */
  expectJobId?: string | null;
  /** A dispatch given up as the generation fails, appended to its history. */
  attempt?: GenerationAttempt;
  /** See completeGeneration: the dispatch (and its region) whose outcome this is; null clears
   * a route that was intended but never taken (no region accepted the first dispatch). */
  jobId?: string | null;
  region?: string | null;
  superseded?: GenerationAttempt;
}

/** queued|running -> failed (or blocked, when output moderation refused the image). */
export async function failGeneration(
  db: Database,
  id: string,
  failure: GenerationFailure,
): Promise<GenerationRow | null> {
  const { error, status = "failed", at = new Date(), moderation, routing, expectJobId } = failure;
  const history = [failure.attempt, failure.superseded].filter((a) => a !== undefined);
  const [row] = await db
    .update(generations)
    .set({
      status,
      error,
      completedAt: at,
      ...(moderation === undefined ? {} : { moderation }),
      ...(routing === undefined ? {} : { routing }),
      ...(failure.jobId === undefined ? {} : { jobId: failure.jobId }),
      ...(failure.region === undefined ? {} : { region: failure.region }),
      ...(history.length > 0 && {
        attempts: sql`${generations.attempts} || ${JSON.stringify(history)}::jsonb`,
      }),
    })
    .where(
      and(
        eq(generations.id, id),
        inArray(generations.status, ACTIVE_STATUSES),
        ...(expectJobId === undefined
          ? []
          : [
              expectJobId === null ? isNull(generations.jobId) : eq(generations.jobId, expectJobId),
            ]),
      ),
    )
    .returning();
  return row ?? null;
}

/** queued -> canceled, for the owning account only; a started generation runs to the end. */
export async function cancelGeneration(
  db: Database,
  accountId: string,
  id: string,
  at: Date = new Date(),
): Promise<GenerationRow | null> {
  const [row] = await db
    .update(generations)
    .set({ status: "canceled", completedAt: at })
    .where(
      and(
        eq(generations.id, id),
        eq(generations.accountId, accountId),
        eq(generations.status, "queued"),
      ),
    )
    .returning();
  return row ?? null;
}

/** The earliest finished generation with this dedup key (the one that paid for the bytes). */
export async function findSucceededByContentHash(
  db: Database,
  contentHash: string,
): Promise<GenerationRow | null> {
  // Every submit with a seed asks this: built once per database session.
  const query = preparedFor(db, "generations_succeeded_by_content_hash", (d) =>
    d
      .select()
      .from(generations)
      .where(
        and(
          eq(generations.contentHash, sql.placeholder("contentHash")),
          eq(generations.status, "succeeded"),
          sql`${generations.assetKey} is not null`,
        ),
      )
      .orderBy(asc(generations.createdAt), asc(generations.id))
      .limit(1)
      .prepare(UNNAMED),
  );
  const [row] = await query.execute({ contentHash });
  return row ?? null;
}

export type AssetOwner = {
  generationId: string;
  accountId: string;
  projectId: string | null;
  /** Generations outside any project are private. */
  visibility: ProjectVisibility;
  /** Region whose object store holds the bytes. */
  region: string | null;
  contentType: string | null;
  bytes: number | null;
  outputSha256: string | null;
  /** Some generation with these bytes is hidden by reports (pending review) or removed. */
  hidden: boolean;
  /** Some generation with these bytes was removed after review. */
  removed: boolean;
};

/**
 * Who may read an asset and where it lives. Deduplicated generations share one content-addressed
 * key, so several rows may match; the one returned is the caller's own if `accountId` owns one,
 * else a public one, else the original. Access is allowed when `visibility` is public or
 * `accountId` matches.
 */
export async function findGenerationByAssetKey(
  db: Database,
  assetKey: string,
  { accountId }: { accountId?: string } = {},
): Promise<AssetOwner | null> {
  const visibility = sql<ProjectVisibility>`coalesce(${projects.visibility}, 'private')`;
  const preference: SQL[] = [];
  if (accountId !== undefined) preference.push(desc(sql`${generations.accountId} = ${accountId}`));
  preference.push(
    desc(sql`${visibility} = 'public'`),
    asc(generations.createdAt),
    asc(generations.id),
  );
  const [row] = await db
    .select({
      generationId: generations.id,
      accountId: generations.accountId,
      projectId: generations.projectId,
      visibility,
      region: generations.region,
      contentType: generations.contentType,
      bytes: generations.bytes,
      outputSha256: generations.outputSha256,
      hidden: sql<boolean>`coalesce(bool_or(${generations.reviewState} in ('pending', 'removed')) over (), false)`,
      removed: sql<boolean>`coalesce(bool_or(${generations.reviewState} = 'removed') over (), false)`,
    })
    .from(generations)
    .leftJoin(projects, eq(projects.id, generations.projectId))
    .where(and(eq(generations.assetKey, assetKey), eq(generations.status, "succeeded")))
    .orderBy(...preference)
    .limit(1);
  return row ?? null;
}
