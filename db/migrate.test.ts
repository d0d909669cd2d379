import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateDrizzleJson, generateMigration, pushSchema } from "drizzle-kit/api";
import { drizzle } from "drizzle-orm/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "./client/index.ts";
import { MIGRATIONS_FOLDER, migrateDatabase } from "./migrate.ts";
import { getPlan, seedPlans } from "./queries/accounts.ts";
import * as schema from "./schema/index.ts";
import { createTestDatabase, type PgliteHandle } from "./testing.ts";

type Journal = { entries: Array<{ idx: number; tag: string }> };
const readJournal = async (): Promise<Journal> =>
  JSON.parse(await readFile(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"));

let db: PgliteHandle;
beforeAll(async () => {
  db = await createTestDatabase({ seed: false });
});
afterAll(async () => {
  await db?.close();
});

describe("committed migrations", () => {
  it("are in step with the schema: drizzle-kit generate would write nothing", async () => {
    const { entries } = await readJournal();
    const last = entries.at(-1)!;
    const snapshot = JSON.parse(
      await readFile(
        join(MIGRATIONS_FOLDER, "meta", `${String(last.idx).padStart(4, "0")}_snapshot.json`),
        "utf8",
      ),
    );
    const current = generateDrizzleJson(schema, snapshot.id);
    expect(await generateMigration(snapshot, current)).toEqual([]);
  });

  it("build exactly the schema when applied (no hand edits drifted from it)", async () => {
    // A schema-less drizzle over the same client: what drizzle-kit's introspection expects.
    const { statementsToExecute } = await pushSchema(schema, drizzle({ client: db.db.$client }));
    expect(statementsToExecute).toEqual([]);
  });

  it("enable pgvector before anything uses it", async () => {
    const { entries } = await readJournal();
    expect(entries[0]?.tag).toBe("0000_enable_pgvector");
    const sql = await readFile(join(MIGRATIONS_FOLDER, `${entries[0]?.tag}.sql`), "utf8");
    expect(sql).toMatch(/CREATE EXTENSION IF NOT EXISTS vector/);
  });

  it("apply once: migrating an up-to-date database changes nothing", async () => {
    const count = async () =>
      (
        await db.db.$client.query<{ n: number }>(
          "select count(*)::int as n from drizzle.__drizzle_migrations",
        )
      ).rows[0]?.n;
    const before = await count();
    await migrateDatabase(db);
    expect(await count()).toBe(before);
    expect(before).toBe((await readJournal()).entries.length);
  });
});

describe("node db/migrate.ts", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "genart-db-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("migrates and seeds the database named by DATABASE_URL, which then persists on disk", async () => {
    // An initialised but unmigrated cluster in a folder (initdb itself is PGlite's business, and
    // slow: the template already holds its result).
    const dataDir = join(dir, "db");
    await (await createTestDatabase({ migrate: false, dataDir })).close();

    const { stdout } = await promisify(execFile)(process.execPath, ["db/migrate.ts"], {
      env: { ...process.env, DATABASE_URL: `pglite://${dataDir}` },
    });
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toMatchObject({
      msg: "database migrated",
      driver: "pglite",
      plansSeeded: 3,
    });

    const reopened = await createDatabase(`pglite://${dataDir}`);
    try {
      expect(await getPlan(reopened.db, "free")).not.toBeNull();
      await migrateDatabase(reopened);
      expect(await seedPlans(reopened.db)).toBe(0);
    } finally {
      await reopened.close();
    }
    // A second process boots its own WASM Postgres: seconds on a quiet machine, far more on a busy one.
  }, 120_000);
});
