import { getTableColumns, is, sql, SQL, type Column } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { placeholderFor } from "./prepared.ts";

// One row as a `SELECT` list, for `INSERT INTO t SELECT ... WHERE <condition>`: an insert that a
// single statement can decide not to make. Drizzle's `insert().select()` names every column of the
// table, so every column gets a value here: the row's own (a placeholder, `v_<key>`), or the
// column's default, or NULL.

export interface RowSelect {
  /** `select <every column's value>` (no FROM: add the WHERE). */
  sql: SQL;
  /** Placeholder values for the row's non-null values. */
  params: Record<string, unknown>;
  /**
   * Which columns are set and which are null: statements built from it differ only in values
   * (a placeholder always goes through its column's encoder, which would turn null into JSON
   * `null` or fail on a date, so nulls are written into the statement).
   */
  shape: string;
}

export function rowSelect<T extends PgTable>(table: T, row: T["$inferInsert"]): RowSelect {
  const values = row as Record<string, unknown>;
  const parts: SQL[] = [];
  const params: Record<string, unknown> = {};
  const shape: string[] = [];
  for (const [key, column] of Object.entries(getTableColumns(table)) as Array<[string, Column]>) {
    const value = values[key];
    const type = sql.raw(column.getSQLType());
    if (value === undefined) {
      parts.push(sql`${defaultOf(column)}::${type}`);
    } else if (value === null) {
      parts.push(sql`null::${type}`);
      shape.push(`${key}=null`);
    } else {
      parts.push(sql`${placeholderFor(`v_${key}`, column)}::${type}`);
      params[`v_${key}`] = value;
      shape.push(key);
    }
  }
  return { sql: sql`select ${sql.join(parts, sql`, `)}`, params, shape: shape.join(",") };
}

/** What an insert that leaves the column out would store (its default, or NULL). */
function defaultOf(column: Column): SQL {
  if (column.default === undefined) {
    if (column.defaultFn !== undefined) {
      throw new Error(`${column.name}: pass a value (its default is computed in JavaScript)`);
    }
    return sql`null`;
  }
  return is(column.default, SQL) ? column.default : sql`${sql.param(column.default, column)}`;
}
