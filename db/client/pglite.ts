import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite/vector";
import { drizzle } from "drizzle-orm/pglite";
import * as schema from "../schema/index.ts";
import type { PgliteConfig } from "./config.ts";
import type { DatabaseHandle } from "./types.ts";

export type PgliteHandle = Extract<DatabaseHandle, { driver: "pglite" }>;

export type PgliteOptions = Omit<PgliteConfig, "kind"> & {
  /** Start from a `dumpDataDir()` tarball instead of an empty cluster (skips initdb). */
  loadDataDir?: Blob;
};

/** PGlite (Postgres compiled to WASM) with pgvector, persisted in `dataDir` or held in memory. */
export async function createPgliteDatabase(options: PgliteOptions = {}): Promise<PgliteHandle> {
  const { dataDir, loadDataDir } = options;
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir, loadDataDir, extensions: { vector } });
  const db = drizzle({ client, schema });
  return { driver: "pglite", db, close: () => client.close() };
}
