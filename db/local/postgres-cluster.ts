import { execFile, spawnSync } from "node:child_process";
import { chown, cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { MIGRATIONS_FOLDER } from "../migrate.ts";

// A throwaway PostgreSQL cluster (initdb + pg_ctl from the PATH) for tests and benchmarks that want
// a genuine server rather than PGlite: a real server process, its own connections and locks.

const run = promisify(execFile);
const asRoot = userInfo().uid === 0;
// initdb refuses to run as root: use the distribution's postgres account then.
const command = (bin: string, args: string[]) =>
  asRoot ? run("runuser", ["-u", "postgres", "--", bin, ...args]) : run(bin, args);

/** Whether initdb and pg_ctl can be run here (and, as root, a postgres account exists). */
export const postgresServerAvailable = (): boolean =>
  spawnSync("initdb", ["--version"]).status === 0 &&
  (!asRoot || spawnSync("id", ["postgres"]).status === 0);

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication, loopback only). */
  url: string;
  host: string;
  port: number;
  /** A scratch folder the server's account can read (for fixture migrations and the like). */
  dir: string;
  close(): Promise<void>;
}

export interface PostgresClusterOptions {
  /** Default true: commits are durable as in production; false for tests that only need SQL. */
  fsync?: boolean;
  maxConnections?: number;
}

/** initdb into a temporary folder and start the server on a free loopback port. */
export async function startPostgresCluster(
  opts: PostgresClusterOptions = {},
): Promise<PostgresCluster> {
  const dir = await mkdtemp(join(tmpdir(), "genart-pg-"));
  if (asRoot) await chown(dir, Number(spawnSync("id", ["-u", "postgres"]).stdout), 0);
  const dataDir = join(dir, "data");
  let started = false;
  const close = async () => {
    if (started) await command("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await command("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync"]);
    const port = await freePort();
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses=127.0.0.1",
      `-c max_connections=${opts.maxConnections ?? 100}`,
      ...(opts.fsync === false ? ["-c fsync=off"] : []),
    ].join(" ");
    await command("pg_ctl", ["-D", dataDir, "-o", options, "-l", join(dir, "log"), "-w", "start"]);
    started = true;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      host: "127.0.0.1",
      port,
      dir,
      close,
    };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

/**
 * A copy of db/migrations for a server without pgvector (this machine's PostgreSQL 15): the
 * extension is not created, `vector(n)` columns become `real[]` and their HNSW index is left out.
 * Only style search uses them; everything else is the schema as deployed. Returns the folder.
 */
export async function migrationsWithoutVector(into: string): Promise<string> {
  const folder = join(into, "migrations-without-vector");
  await cp(MIGRATIONS_FOLDER, folder, { recursive: true });
  for (const name of await readdir(folder)) {
    if (!name.endsWith(".sql")) continue;
    const file = join(folder, name);
    const statements = (await readFile(file, "utf8")).split("--> statement-breakpoint");
    const kept = statements
      .filter((s) => !/CREATE EXTENSION IF NOT EXISTS vector/i.test(s))
      .filter((s) => !/USING hnsw/i.test(s))
      .map((s) => s.replace(/\bvector\(\d+\)/g, "real[]"))
      // An index left out above (hnsw) may be dropped by a later migration.
      .map((s) => s.replace(/\bDROP INDEX "/g, 'DROP INDEX IF EXISTS "'));
    // drizzle runs an empty file as a no-op statement; keep one so the journal stays complete.
    await writeFile(file, kept.length > 0 ? kept.join("--> statement-breakpoint") : "SELECT 1;");
  }
  return folder;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address !== "object") throw new Error("no port");
  return address.port;
}
