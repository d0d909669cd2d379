import type { PGlite } from "@electric-sql/pglite";
import type { Pool as NeonPool } from "@neondatabase/serverless";
import type { NeonDatabase } from "drizzle-orm/neon-serverless";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import type { Pool as PgPool } from "pg";
import type * as schema from "../schema/index.ts";

export type Schema = typeof schema;

/** What every query takes: drizzle over the one schema, whichever driver is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

/** A transaction handle passed to `db.transaction(async (tx) => ...)`; queries accept it too. */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** An open database: the driver-typed drizzle instance (usable as `Database`) and its owner. */
export type DatabaseHandle =
  | {
      readonly driver: "pglite";
      readonly db: PgliteDatabase<Schema> & { $client: PGlite };
      close(): Promise<void>;
    }
  | {
      readonly driver: "node-postgres";
      readonly db: NodePgDatabase<Schema> & { $client: PgPool };
      close(): Promise<void>;
    }
  | {
      readonly driver: "neon";
      readonly db: NeonDatabase<Schema> & { $client: NeonPool };
      close(): Promise<void>;
    };

export type DriverKind = DatabaseHandle["driver"];
