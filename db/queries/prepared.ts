import { Param, sql, type Column, type SQL } from "drizzle-orm";
import type { Database } from "../client/types.ts";

// Hot statements are built once per database session (drizzle `.prepare`): building the SQL of the
// 41-column generations table cost more CPU per submit than the edge's own work around it.
const statements = new WeakMap<object, Map<string, unknown>>();

/**
 * The name to prepare with: none. A named statement lives in the server session, and sessions are
 * shared between clients behind a transaction pooler (PgBouncer, Neon's pooler) and by the local
 * wire gateway (db/local), where a second client preparing the same name fails. Unnamed, the server
 * parses each run as it does any parameterised query; the building is what is saved.
 */
export const UNNAMED = "";

/**
 * The statement `build` makes for `db`'s session, built on first use. Every value that varies
 * between calls must be a placeholder, including what drizzle would compute while building: a
 * column's `$defaultFn` (pass the value) or `$onUpdate` (set it explicitly).
 */
export function preparedFor<T>(db: Database, name: string, build: (db: Database) => T): T {
  // A prepared statement runs on the session it was built on. Keyed by that session, not by the
  // handle: the Worker's handle forwards to each request's own pool, closed when it ends.
  const session = db._.session;
  let byName = statements.get(session);
  if (!byName) statements.set(session, (byName = new Map()));
  let statement = byName.get(name) as T | undefined;
  if (statement === undefined) {
    statement = build(db);
    byName.set(name, statement);
  }
  return statement;
}

/**
 * A placeholder written to `column` (update `set`), encoded the way the column encodes its values
 * (JSON, timestamps) when the statement runs.
 */
export const placeholderFor = (name: string, column: Column): SQL =>
  sql`${new Param(sql.placeholder(name), column)}`;
