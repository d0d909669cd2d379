import { resolveDatabaseConfig, type DatabaseConfig } from "./config.ts";
import type { DatabaseHandle } from "./types.ts";

export type { Database, DatabaseHandle, DriverKind, Schema, Transaction } from "./types.ts";
export { resolveDatabaseConfig, type DatabaseConfig } from "./config.ts";

export type CreateDatabaseOptions = {
  /** node-postgres only: errors of idle pooled connections (default: logged as JSON). */
  onPoolError?: (error: Error) => void;
};

/**
 * Opens a database from a URL or config (see config.ts for the forms). Node-side entry: each driver
 * is imported only when chosen. Workers import `./neon.ts` directly so their bundle holds neither
 * PGlite nor pg.
 */
export async function createDatabase(
  config: string | DatabaseConfig,
  options: CreateDatabaseOptions = {},
): Promise<DatabaseHandle> {
  const resolved = resolveDatabaseConfig(config);
  switch (resolved.kind) {
    case "pglite": {
      const { createPgliteDatabase } = await import("./pglite.ts");
      return createPgliteDatabase(resolved);
    }
    case "postgres": {
      const { createNodePostgresDatabase } = await import("./node-postgres.ts");
      return createNodePostgresDatabase(resolved, options.onPoolError);
    }
    case "neon": {
      const { createNeonDatabase } = await import("./neon.ts");
      return createNeonDatabase(resolved);
    }
  }
}
