import { and, eq, isNull, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Database } from "../client/types.ts";
import { prices, type NewPrice, type Price } from "../schema/prices.ts";
import { DEFAULT_PRICES } from "../seed/prices.ts";

export async function listPrices(db: Database): Promise<Price[]> {
  return db.select().from(prices);
}

/**
 * Inserts price rows whose (model version, lane, region) cell has none yet (the unique index
 * decides); existing rows are left as operators set them. Returns how many were inserted.
 */
export async function seedPrices(
  db: Database,
  rows: readonly NewPrice[] = DEFAULT_PRICES,
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(prices)
    .values([...rows])
    .onConflictDoNothing()
    .returning({ id: prices.id });
  return inserted.length;
}

const sameCell = (column: PgColumn, value: string | null | undefined): SQL =>
  value == null ? isNull(column) : eq(column, value);

/** Sets the price of one (model version, lane, region) cell, replacing the row that had it. */
export async function upsertPrice(db: Database, row: NewPrice): Promise<Price> {
  return db.transaction(async (tx) => {
    await tx
      .delete(prices)
      .where(
        and(
          sameCell(prices.modelVersionId, row.modelVersionId),
          sameCell(prices.lane, row.lane),
          sameCell(prices.region, row.region),
        ),
      );
    const [price] = await tx.insert(prices).values(row).returning();
    if (!price) throw new Error("insert into prices returned no row");
    return price;
  });
}
