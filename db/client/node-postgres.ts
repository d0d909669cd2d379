import pg from "pg";
import { drizzle } from "drizzle-orm/node-postgres";
import * as schema from "../schema/index.ts";
import type { PostgresConfig } from "./config.ts";
import type { DatabaseHandle } from "./types.ts";

export type PoolErrorHandler = (error: Error) => void;

/** node-postgres Pool: the driver of long-lived Node processes (regional nodes, Node edge). */
export function createNodePostgresDatabase(
  config: Omit<PostgresConfig, "kind">,
  onPoolError: PoolErrorHandler = logPoolError,
): Extract<DatabaseHandle, { driver: "node-postgres" }> {
  const pool = new pg.Pool({ connectionString: config.url, max: config.maxConnections ?? 10 });
  // An idle client losing its connection emits on the pool; unhandled, that would crash the process.
  pool.on("error", onPoolError);
  const db = drizzle({ client: pool, schema });
  return { driver: "node-postgres", db, close: () => pool.end() };
}

function logPoolError(error: Error): void {
  console.error(
    JSON.stringify({ level: "error", msg: "postgres pool error", error: error.message }),
  );
}
