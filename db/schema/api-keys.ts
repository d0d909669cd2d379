import { index, pgTable, text, uniqueIndex, check } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { createdAt, oneOf, timestamptz } from "./_helpers.ts";
import { accounts } from "./accounts.ts";

export const API_KEY_MODES = ["live", "test"] as const;
export type ApiKeyMode = (typeof API_KEY_MODES)[number];

/** Keys are stored only as a SHA-256 hash; `prefix` is the part safe to show in lists. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("apiKey")),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name"),
    mode: text("mode", { enum: API_KEY_MODES }).notNull(),
    prefix: text("prefix").notNull(),
    /** Hex SHA-256 of the full key (optionally peppered): the lookup key at authentication. */
    hash: text("hash").notNull(),
    scopes: text("scopes").array().notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamptz("last_used_at"),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [
    uniqueIndex("api_keys_hash_idx").on(t.hash),
    index("api_keys_account_id_idx").on(t.accountId),
    check("api_keys_mode_check", oneOf(t.mode, API_KEY_MODES)),
  ],
);

export type ApiKey = typeof apiKeys.$inferSelect;
export type NewApiKey = typeof apiKeys.$inferInsert;
