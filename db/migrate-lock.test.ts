import { execFile, spawnSync } from "node:child_process";
import { chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "./client/index.ts";
import type { DatabaseHandle } from "./client/types.ts";
import { migrateDatabase } from "./migrate.ts";

// Concurrent migrators against a genuine PostgreSQL (a throwaway initdb cluster). Its binaries have
// no pgvector, so this runs a two-step fixture migration set, not db/migrations (whose full run
// over the wire is in client/drivers.test.ts). Without the advisory lock both migrators see an
// empty history and the second fails on the first's tables.

const run = promisify(execFile);
const asRoot = userInfo().uid === 0;
// initdb refuses to run as root: use the distribution's postgres account then.
const command = (bin: string, args: string[]) =>
  asRoot ? run("runuser", ["-u", "postgres", "--", bin, ...args]) : run(bin, args);
const available =
  spawnSync("initdb", ["--version"]).status === 0 &&
  (!asRoot || spawnSync("id", ["postgres"]).status === 0);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address !== "object") throw new Error("no port");
  return address.port;
}

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

describe.skipIf(!available)("migrateDatabase against PostgreSQL", () => {
  let dir: string;
  let dataDir: string;
  let url: string;
  const handles: DatabaseHandle[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "genart-pg-"));
    if (asRoot) await chown(dir, Number(spawnSync("id", ["-u", "postgres"]).stdout), 0);
    dataDir = join(dir, "data");
    await command("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync"]);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await command("pg_ctl", ["-D", dataDir, "-o", options, "-l", join(dir, "log"), "-w", "start"]);
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await writeFixtureMigrations(join(dir, "migrations"));
  });

  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    if (dataDir) await command("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lets concurrent migrators apply each migration exactly once", async () => {
    const [a, b] = await Promise.all([createDatabase(url), createDatabase(url)]);
    handles.push(a!, b!);
    const folder = join(dir, "migrations");
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
