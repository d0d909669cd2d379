import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import type { Database } from "../client/types.ts";
import {
  webhookSecrets,
  type NewWebhookSecretRow,
  type WebhookSecretRow,
} from "../schema/webhook-secrets.ts";

/** The account's secrets that sign now: the current one first, then any rotated out but not expired. */
export async function listSigningWebhookSecrets(
  db: Database,
  accountId: string,
  now: Date,
): Promise<WebhookSecretRow[]> {
  const rows = await db
    .select()
    .from(webhookSecrets)
    .where(
      and(
        eq(webhookSecrets.accountId, accountId),
        or(isNull(webhookSecrets.expiresAt), gt(webhookSecrets.expiresAt, now)),
      ),
    )
    .orderBy(asc(webhookSecrets.createdAt));
  return rows.sort((a, b) => Number(a.expiresAt !== null) - Number(b.expiresAt !== null));
}

/** Stores the account's first secret; null when another request stored one first. */
export async function insertCurrentWebhookSecret(
  db: Database,
  values: NewWebhookSecretRow,
): Promise<WebhookSecretRow | null> {
  const [row] = await db
    .insert(webhookSecrets)
    .values({ ...values, expiresAt: null })
    .onConflictDoNothing()
    .returning();
  return row ?? null;
}

/**
 * Makes `values` the account's current secret; the one it replaces keeps signing until
 * `previousExpiresAt`. Secrets rotated out earlier stop at once (at most two sign at a time).
 */
export async function rotateWebhookSecret(
  db: Database,
  values: NewWebhookSecretRow,
  previousExpiresAt: Date,
  now: Date,
): Promise<WebhookSecretRow> {
  return db.transaction(async (tx) => {
    await tx
      .update(webhookSecrets)
      .set({ expiresAt: now })
      .where(
        and(eq(webhookSecrets.accountId, values.accountId), gt(webhookSecrets.expiresAt, now)),
      );
    await tx
      .update(webhookSecrets)
      .set({ expiresAt: previousExpiresAt })
      .where(and(eq(webhookSecrets.accountId, values.accountId), isNull(webhookSecrets.expiresAt)));
    const [row] = await tx
      .insert(webhookSecrets)
      .values({ ...values, expiresAt: null })
      .returning();
    return row!;
  });
}

export async function updateWebhookSecretSeal(
  db: Database,
  id: string,
  sealed: { keyId: string; ciphertext: string },
): Promise<void> {
  await db.update(webhookSecrets).set(sealed).where(eq(webhookSecrets.id, id));
}
