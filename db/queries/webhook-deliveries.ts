import { and, asc, eq, getTableColumns, isNotNull, isNull, lte, sql } from "drizzle-orm";
import type { Database } from "../client/types.ts";
import { generations } from "../schema/generations.ts";
import {
  webhookDeliveries,
  type NewWebhookDelivery,
  type WebhookAttempt,
  type WebhookDelivery,
} from "../schema/webhook-deliveries.ts";

// A delivery is pending while next_attempt_at is set and delivered_at is not. Claiming an attempt
// moves next_attempt_at to the end of a lease and counts the attempt, in one conditional update, so
// two processes (or a timer and a sweep) never send the same attempt; a sender that dies mid-attempt
// leaves the row to be claimed again when its lease runs out.

/** Records a message to deliver; null when the generation already has one for this event. */
export async function insertWebhookDelivery(
  db: Database,
  values: NewWebhookDelivery,
): Promise<WebhookDelivery | null> {
  const [row] = await db.insert(webhookDeliveries).values(values).onConflictDoNothing().returning();
  return row ?? null;
}

/**
 * Takes the next attempt of a pending delivery that is due at `now`, holding it until
 * `leaseUntil`. Returns the row with `attempt` already counting this attempt, and the account the
 * generation belongs to (whose secret signs it); null when not due, already taken, delivered or
 * given up.
 */
export async function claimWebhookAttempt(
  db: Database,
  id: string,
  now: Date,
  leaseUntil: Date,
): Promise<(WebhookDelivery & { accountId: string }) | null> {
  const [row] = await db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: leaseUntil, attempt: sql`${webhookDeliveries.attempt} + 1` })
    .where(
      and(
        eq(webhookDeliveries.id, id),
        isNull(webhookDeliveries.deliveredAt),
        isNotNull(webhookDeliveries.nextAttemptAt),
        lte(webhookDeliveries.nextAttemptAt, now),
      ),
    )
    .returning({
      ...getTableColumns(webhookDeliveries),
      accountId: sql<string>`coalesce(${webhookDeliveries.accountId}, (select ${generations.accountId} from ${generations} where ${generations.id} = ${webhookDeliveries.generationId}))`,
    });
  return row ?? null;
}

export interface AttemptResult {
  record: WebhookAttempt;
  /** Set when this attempt delivered. */
  deliveredAt: Date | null;
  /** When to try again; null: delivered or given up. */
  nextAttemptAt: Date | null;
}

/**
 * Appends an attempt's outcome, if the attempt is still the row's latest (a sender whose lease ran
 * out and was overtaken changes nothing). Returns the updated row or null.
 */
export async function recordWebhookAttempt(
  db: Database,
  id: string,
  attempt: number,
  result: AttemptResult,
): Promise<WebhookDelivery | null> {
  const [row] = await db
    .update(webhookDeliveries)
    .set({
      statusCode: result.record.status_code,
      error: result.record.error,
      deliveredAt: result.deliveredAt,
      nextAttemptAt: result.nextAttemptAt,
      attempts: sql`${webhookDeliveries.attempts} || ${JSON.stringify([result.record])}::jsonb`,
    })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.attempt, attempt)))
    .returning();
  return row ?? null;
}

/** Pending deliveries due by `before`, soonest first (restart resume, sweeps). */
export async function listDueWebhookDeliveries(
  db: Database,
  before: Date,
  limit = 100,
): Promise<Pick<WebhookDelivery, "id" | "nextAttemptAt">[]> {
  return db
    .select({ id: webhookDeliveries.id, nextAttemptAt: webhookDeliveries.nextAttemptAt })
    .from(webhookDeliveries)
    .where(and(isNull(webhookDeliveries.deliveredAt), lte(webhookDeliveries.nextAttemptAt, before)))
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(limit);
}

/** A generation's webhook messages, oldest first. */
export async function listWebhookDeliveries(
  db: Database,
  generationId: string,
): Promise<WebhookDelivery[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.generationId, generationId))
    .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id));
}
