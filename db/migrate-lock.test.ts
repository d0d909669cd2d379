import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "./client/index.ts";
import type { DatabaseHandle } from "./client/types.ts";
import {
  postgresServerAvailable,
  startPostgresCluster,
  type PostgresCluster,
} from "./local/postgres-cluster.ts";
import { migrateDatabase } from "./migrate.ts";

// Concurrent migrators against a genuine PostgreSQL (a throwaway initdb cluster). Its binaries have
// no pgvector, so this runs a two-step fixture migration set, not db/migrations (whose full run
// over the wire is in client/drivers.test.ts). Without the advisory lock both migrators see an
// empty history and the second fails on the first's tables.

async function writeFixtureMigrations(folder: string): Promise<void> {
  await mkdir(join(folder, "meta"), { recursive: true });
  const entries = ["0000_first", "0001_second"].map((tag, idx) => ({
    idx,
    version: "7",
    when: 1_700_000_000_000 + idx,
    tag,
    breakpoints: true,
  }));
  await writeFile(
    join(folder, "meta", "_journal.json"),
    JSON.stringify({ version: "7", dialect: "postgresql", entries }),
  );
  // The sleep holds the first migrator inside its transaction long enough for the race to matter.
  await writeFile(
    join(folder, "0000_first.sql"),
    "CREATE TABLE first (id int);\n--> statement-breakpoint\nSELECT pg_sleep(0.3);",
  );
  await writeFile(join(folder, "0001_second.sql"), "CREATE TABLE second (id int);");
}

describe.skipIf(!postgresServerAvailable())("migrateDatabase against PostgreSQL", () => {
  let cluster: PostgresCluster;
  const handles: DatabaseHandle[] = [];

  beforeAll(async () => {
    cluster = await startPostgresCluster({ fsync: false });
    await writeFixtureMigrations(join(cluster.dir, "migrations"));
  });

  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await cluster?.close();
  });

  it("lets concurrent migrators apply each migration exactly once", async () => {
    const [a, b] = await Promise.all([createDatabase(cluster.url), createDatabase(cluster.url)]);
    handles.push(a!, b!);
    const folder = join(cluster.dir, "migrations");
    await Promise.all([migrateDatabase(a!, folder), migrateDatabase(b!, folder)]);
    if (a!.driver !== "node-postgres") throw new Error("expected node-postgres");
    const { rows } = await a!.db.$client.query<{ n: number }>(
      "select count(*)::int as n from drizzle.__drizzle_migrations",
    );
    expect(rows[0]?.n).toBe(2);
    const tables = await a!.db.$client.query(
      "select 1 from information_schema.tables where table_name in ('first', 'second')",
    );
    expect(tables.rowCount).toBe(2);
  });
});
