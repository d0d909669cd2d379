import { sql, type SQL } from "drizzle-orm";
import { bigint, timestamp, type PgColumn } from "drizzle-orm/pg-core";

// Millisecond precision: a JS Date round-trips exactly, so keyset cursors built from a row's
// timestamp compare equal to the stored value (microseconds would make pages repeat rows).
export const timestamptz = (name: string) =>
  timestamp(name, { withTimezone: true, precision: 3, mode: "date" });

export const createdAt = () => timestamptz("created_at").notNull().defaultNow();

export const updatedAt = () =>
  timestamptz("updated_at")
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

// Money is integer micro-USD. As a JS number it is exact up to 2^53 µUSD (about 9 billion USD).
export const microusd = (name: string) => bigint(name, { mode: "number" });

/** `column IN ('a', 'b')` for CHECK constraints over a closed set of string values. */
export function oneOf(column: PgColumn, values: readonly string[]): SQL {
  return sql`${column} in (${sql.raw(quoteAll(values))})`;
}

/** `column <@ array['a', 'b']` for CHECK constraints on a text[] drawn from a closed set. */
export function subsetOf(column: PgColumn, values: readonly string[]): SQL {
  return sql`${column} <@ array[${sql.raw(quoteAll(values))}]::text[]`;
}

function quoteAll(values: readonly string[]): string {
  return values.map((v) => `'${v.replaceAll("'", "''")}'`).join(", ");
}

/** A zod enum's `.options` as the non-empty tuple drizzle's `text(..., { enum })` expects. */
export function nonEmpty<T>(values: readonly T[]): [T, ...T[]] {
  const [first, ...rest] = values;
  if (first === undefined) throw new Error("expected at least one value");
  return [first, ...rest];
}
