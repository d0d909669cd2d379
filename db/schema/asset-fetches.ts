import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { timestamptz } from "./_helpers.ts";
import { accounts } from "./accounts.ts";

/**
 * Which account downloaded which output's bytes (GET /v1/assets/:key with a key): downloads count as
 * engagement in curation, and a vote on an output its voter never fetched weighs less. Keyed by the
 * content-addressed asset key, so a fetch needs no generation lookup on the hot path.
 */
export const assetFetches = pgTable(
  "asset_fetches",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("assetFetch")),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    assetKey: text("asset_key").notNull(),
    fetches: integer("fetches").notNull().default(1),
    firstFetchedAt: timestamptz("first_fetched_at").notNull().defaultNow(),
    lastFetchedAt: timestamptz("last_fetched_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("asset_fetches_account_id_asset_key_idx").on(t.accountId, t.assetKey),
    index("asset_fetches_asset_key_idx").on(t.assetKey),
    check("asset_fetches_fetches_check", sql`${t.fetches} >= 1`),
  ],
);

export type AssetFetch = typeof assetFetches.$inferSelect;
export type NewAssetFetch = typeof assetFetches.$inferInsert;
