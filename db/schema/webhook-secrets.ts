import { sql } from "drizzle-orm";
import { index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { createdAt, timestamptz } from "./_helpers.ts";
import { accounts } from "./accounts.ts";

/**
 * An account's webhook signing secrets (`whsec_...`), sealed with AES-256-GCM under a key from
 * configuration (edge/webhooks/secret-box.ts). One current secret per account (`expires_at` null);
 * a rotated-out one keeps signing, beside the current, until its `expires_at`.
 */
export const webhookSecrets = pgTable(
  "webhook_secrets",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("webhookSecret")),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    /** Which configured key sealed it (WEBHOOK_SECRETS_KEY's id). */
    keyId: text("key_id").notNull(),
    /** base64(iv || ciphertext || tag); the account id is the associated data. */
    ciphertext: text("ciphertext").notNull(),
    /** Null: the current secret. Set when rotated out: it signs too until then. */
    expiresAt: timestamptz("expires_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("webhook_secrets_account_id_current_idx")
      .on(t.accountId)
      .where(sql`${t.expiresAt} is null`),
    index("webhook_secrets_account_id_idx").on(t.accountId),
  ],
);

export type WebhookSecretRow = typeof webhookSecrets.$inferSelect;
export type NewWebhookSecretRow = typeof webhookSecrets.$inferInsert;
