import { check, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { createdAt, microusd, oneOf } from "./_helpers.ts";
import { accounts } from "./accounts.ts";
import { generations } from "./generations.ts";

/** `cached`: an answer from the dedup cache, amount 0, with what it would have cost as `saved`. */
export const LEDGER_KINDS = ["reserve", "settle", "refund", "cached"] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/**
 * Append-only spend record: rows are inserted, never updated. Tags (project, model version,
 * region) are copied from the generation at write time, so history survives later changes.
 */
export const usageLedger = pgTable(
  "usage_ledger",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("ledger")),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    // "no action": a generation with spend cannot be deleted on its own, only with its account
    // (checked at statement end, so the account cascade still removes both).
    generationId: text("generation_id")
      .notNull()
      .references(() => generations.id, { onDelete: "no action" }),
    kind: text("kind", { enum: LEDGER_KINDS }).notNull(),
    amountMicrousd: microusd("amount_microusd").notNull(),
    gpuMs: integer("gpu_ms"),
    /** What reusing stored output saved (cached answers); null otherwise. */
    savedMicrousd: microusd("saved_microusd"),
    modelVersion: text("model_version"),
    region: text("region"),
    projectId: text("project_id"),
    createdAt: createdAt(),
  },
  (t) => [
    index("usage_ledger_account_id_created_at_idx").on(t.accountId, t.createdAt),
    // A project's spend (its budget) across the accounts that generate under it.
    index("usage_ledger_project_id_created_at_idx").on(t.projectId, t.createdAt),
    // One entry of each kind per generation: retried writes cannot double-charge.
    uniqueIndex("usage_ledger_generation_id_kind_idx").on(t.generationId, t.kind),
    check("usage_ledger_kind_check", oneOf(t.kind, LEDGER_KINDS)),
  ],
);

export type LedgerEntry = typeof usageLedger.$inferSelect;
export type NewLedgerEntry = typeof usageLedger.$inferInsert;
