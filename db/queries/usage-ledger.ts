import { and, eq, gte, inArray, notExists, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Database } from "../client/types.ts";
import { generations, type GenerationRow } from "../schema/generations.ts";
import { usageLedger, type LedgerEntry } from "../schema/usage-ledger.ts";

// Amounts are signed so that the plain sum of a generation's rows is what it costs the account:
// reserve +E (the hold), then settle A - E (charged A) or refund -E (charged nothing). The sum of an
// account's rows in a month is therefore its spend including the holds of work still in flight.

const CLOSING_KINDS = ["settle", "refund"] as const;

/** The hold placed when a generation is accepted; null when it already has one. */
export async function insertReservation(
  db: Database,
  generation: Pick<
    GenerationRow,
    "id" | "accountId" | "modelVersion" | "region" | "projectId" | "createdAt"
  >,
  amountMicrousd: number,
): Promise<LedgerEntry | null> {
  const [row] = await db
    .insert(usageLedger)
    .values({
      accountId: generation.accountId,
      generationId: generation.id,
      kind: "reserve",
      amountMicrousd,
      modelVersion: generation.modelVersion,
      region: generation.region,
      projectId: generation.projectId,
      createdAt: generation.createdAt,
    })
    .onConflictDoNothing()
    .returning();
  return row ?? null;
}

export interface CloseReservation {
  kind: (typeof CLOSING_KINDS)[number];
  /** What the account pays for the generation (0 for a refund). */
  chargedMicrousd: number;
  gpuMs: number | null;
  at: Date;
  /** The generation reused stored output: what that saved (its reservation). */
  cached?: boolean;
}

/**
 * Closes a generation's hold: one `settle` (charged - reserved) or `refund` (-reserved) row. Returns
 * it with the amount that was reserved, or null when there is nothing to close (no reservation: a
 * cached answer; or already closed: a repeated call), so callers act on each closing exactly once.
 * The generation's terminal status decides the kind, so one generation never gets both.
 */
export async function closeReservation(
  db: Database,
  generation: Pick<GenerationRow, "id" | "modelVersion" | "region" | "projectId">,
  close: CloseReservation,
): Promise<{ entry: LedgerEntry; reservedMicrousd: number } | null> {
  const [reserve] = await db
    .select()
    .from(usageLedger)
    .where(and(eq(usageLedger.generationId, generation.id), eq(usageLedger.kind, "reserve")));
  if (!reserve) return null;
  const charged = close.kind === "refund" ? 0 : close.chargedMicrousd;
  const [entry] = await db
    .insert(usageLedger)
    .values({
      accountId: reserve.accountId,
      generationId: generation.id,
      kind: close.kind,
      amountMicrousd: charged - reserve.amountMicrousd,
      gpuMs: close.gpuMs,
      savedMicrousd: close.cached ? reserve.amountMicrousd : null,
      modelVersion: generation.modelVersion,
      region: generation.region,
      projectId: generation.projectId,
      createdAt: close.at,
    })
    .onConflictDoNothing()
    .returning();
  return entry ? { entry, reservedMicrousd: reserve.amountMicrousd } : null;
}

/** The settle or refund of the reservation row in scope: for `notExists`, an open hold. */
function closingOf(db: Database) {
  const closing = alias(usageLedger, "closing");
  return db
    .select({ one: sql`1` })
    .from(closing)
    .where(
      and(
        eq(closing.generationId, usageLedger.generationId),
        inArray(closing.kind, [...CLOSING_KINDS]),
      ),
    );
}

/**
 * Records an answer from the dedup cache: no charge, no hold, but a row usage can count, with
 * what the work would have cost (`savedMicrousd`). At most once per generation.
 */
export async function insertCacheHit(
  db: Database,
  generation: Pick<
    GenerationRow,
    "id" | "accountId" | "modelVersion" | "region" | "projectId" | "createdAt"
  >,
  savedMicrousd: number,
): Promise<void> {
  await db
    .insert(usageLedger)
    .values({
      accountId: generation.accountId,
      generationId: generation.id,
      kind: "cached",
      amountMicrousd: 0,
      savedMicrousd,
      modelVersion: generation.modelVersion,
      region: generation.region,
      projectId: generation.projectId,
      createdAt: generation.createdAt,
    })
    .onConflictDoNothing();
}

export interface SpendSnapshot {
  /** Sum of the account's ledger rows since `since`: charges plus the holds still open. */
  spentMicrousd: number;
  /** Reservations without a settle or refund yet: work the account still has in flight. */
  open: { generationId: string; reservedMicrousd: number }[];
}

/**
 * What the account limiter starts from. The open holds and the sum come from one statement, so
 * they agree with each other. A hold is open while its generation is queued or running: slots
 * follow the rows, so a generation that ended without its hold being closed (a process stopped in
 * between, before closing moved into the ending transaction) holds no slot. Holds older than
 * `openSince` are left out (abandoned work).
 */
export async function readSpendSnapshot(
  db: Database,
  accountId: string,
  { since, openSince }: { since: Date; openSince: Date },
): Promise<SpendSnapshot> {
  const spentSince = sql<string>`(select coalesce(sum(t.amount_microusd), 0) from ${usageLedger} as t where t.account_id = ${accountId} and t.created_at >= ${since.toISOString()}::timestamptz)`;
  const rows = await db
    .select({
      generationId: usageLedger.generationId,
      reservedMicrousd: usageLedger.amountMicrousd,
      spent: spentSince,
    })
    .from(usageLedger)
    .innerJoin(generations, eq(generations.id, usageLedger.generationId))
    .where(
      and(
        eq(usageLedger.accountId, accountId),
        eq(usageLedger.kind, "reserve"),
        gte(usageLedger.createdAt, openSince),
        inArray(generations.status, ["queued", "running"]),
        notExists(closingOf(db)),
      ),
    );
  const open = rows.map(({ generationId, reservedMicrousd }) => ({
    generationId,
    reservedMicrousd,
  }));
  // Nothing open: no closing row can land between this read and the one below.
  const spent =
    rows[0]?.spent ??
    (await db.select({ spent: spentSince }).from(sql`(select 1) as one`))[0]?.spent ??
    "0";
  return { spentMicrousd: Number(spent), open };
}

/** The ledger rows of one generation, oldest first, the reservation before what closed it. */
export async function ledgerOf(db: Database, generationId: string): Promise<LedgerEntry[]> {
  return db
    .select()
    .from(usageLedger)
    .where(eq(usageLedger.generationId, generationId))
    .orderBy(usageLedger.createdAt, sql`${usageLedger.kind} <> 'reserve'`);
}

/**
 * Generations that ended with their hold still open (a process stopped between ending one and
 * closing its spend, before both moved into one transaction): closed at start-up. At most `limit`.
 */
export async function endedWithOpenReservation(
  db: Database,
  limit: number,
): Promise<GenerationRow[]> {
  const rows = await db
    .select({ generation: generations })
    .from(usageLedger)
    .innerJoin(generations, eq(generations.id, usageLedger.generationId))
    .where(
      and(
        eq(usageLedger.kind, "reserve"),
        sql`${generations.status} not in ('queued', 'running')`,
        notExists(closingOf(db)),
      ),
    )
    .limit(limit);
  return rows.map((r) => r.generation);
}
