import type { Database } from "../client/types.ts";
import { priceCell, prices, type NewPrice, type Price } from "../schema/prices.ts";
import { DEFAULT_PRICES } from "../seed/prices.ts";

export async function listPrices(db: Database): Promise<Price[]> {
  return db.select().from(prices);
}

/**
 * Inserts price rows whose (model version, lane, region) cell has none yet; existing rows are left
 * as operators set them. Returns how many were inserted.
 */
export async function seedPrices(
  db: Database,
  rows: readonly NewPrice[] = DEFAULT_PRICES,
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(prices)
    .values(rows.map((row) => ({ ...row, cell: priceCell(row) })))
    .onConflictDoNothing({ target: prices.cell })
    .returning({ id: prices.id });
  return inserted.length;
}

/** Sets the price of one (model version, lane, region) cell, replacing what it had. */
export async function upsertPrice(db: Database, row: NewPrice): Promise<Price> {
  const [price] = await db
    .insert(prices)
    .values({ ...row, cell: priceCell(row) })
    .onConflictDoUpdate({
      target: prices.cell,
      set: {
        gpuSecondMicrousd: row.gpuSecondMicrousd ?? null,
        megapixelMicrousd: row.megapixelMicrousd ?? 0,
        multiplier: row.multiplier ?? 1,
      },
    })
    .returning();
  if (!price) throw new Error("upsert into prices returned no row");
  return price;
}
