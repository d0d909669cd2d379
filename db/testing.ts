import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPgliteDatabase, type PgliteHandle } from "./client/pglite.ts";
import { MIGRATIONS_FOLDER, migrateDatabase } from "./migrate.ts";
import { seedPlans } from "./queries/accounts.ts";
import { DEFAULT_PLANS } from "./seed/plans.ts";

export type { PgliteHandle };

// initdb inside WASM takes seconds (tens on a busy CI box); restoring a dump of an already migrated
// cluster takes about one. The dump is built once, kept in memory for this process and on disk for
// the next ones, keyed by everything that shapes it: PGlite's version, the migrations, the seed.
const CACHE_DIR = fileURLToPath(new URL("../node_modules/.cache/genart-db/", import.meta.url));
const templates = new Map<string, Promise<Blob>>();

export type TestDatabaseOptions = {
  /** Apply db/migrations (default true); false gives an empty cluster, for migration tests. */
  migrate?: boolean;
  /** Insert the default plans (default true; implies `migrate`). */
  seed?: boolean;
  /** Persist in this (empty or missing) folder instead of memory. */
  dataDir?: string;
};

/**
 * A fresh PGlite (in memory unless `dataDir` is given) with every migration applied and the default
 * plans seeded: the real schema for any component's tests. Each call is an independent database; create one per test
 * file or suite and close it in `afterAll`.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<PgliteHandle> {
  const migrate = options.migrate ?? true;
  const stage = !migrate ? "empty" : (options.seed ?? true) ? "seeded" : "migrated";
  const key = await templateKey(stage);
  let template = templates.get(key);
  if (!template) {
    template = loadOrBuildTemplate(key, stage);
    templates.set(key, template);
    template.catch(() => templates.delete(key));
  }
  return createPgliteDatabase({ dataDir: options.dataDir, loadDataDir: await template });
}

type Stage = "empty" | "migrated" | "seeded";

async function loadOrBuildTemplate(key: string, stage: Stage): Promise<Blob> {
  const file = join(CACHE_DIR, `${stage}-${key}.tar`);
  try {
    return new Blob([await readFile(file)]);
  } catch {
    const dump = await buildTemplate(stage);
    await mkdir(CACHE_DIR, { recursive: true });
    // Write then rename: parallel test workers never read a half-written file.
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
    await rename(partial, file);
    // Dumps of older migration sets are dead weight (about 40 MB each).
    for (const name of await readdir(CACHE_DIR)) {
      if (name.startsWith(`${stage}-`) && name.endsWith(".tar") && join(CACHE_DIR, name) !== file) {
        await rm(join(CACHE_DIR, name), { force: true });
      }
    }
    return dump;
  }
}

async function buildTemplate(stage: Stage): Promise<Blob> {
  const handle = await createPgliteDatabase();
  try {
    if (stage !== "empty") await migrateDatabase(handle);
    if (stage === "seeded") await seedPlans(handle.db);
    return await handle.db.$client.dumpDataDir("none");
  } finally {
    await handle.close();
  }
}

async function templateKey(stage: Stage): Promise<string> {
  const hash = createHash("sha256").update(stage);
  const pglitePackage = join(
    dirname(fileURLToPath(import.meta.resolve("@electric-sql/pglite"))),
    "..",
    "package.json",
  );
  hash.update(JSON.parse(await readFile(pglitePackage, "utf8")).version);
  const journal = await readFile(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8");
  hash.update(journal);
  for (const { tag } of JSON.parse(journal).entries as Array<{ tag: string }>) {
    hash.update(await readFile(join(MIGRATIONS_FOLDER, `${tag}.sql`)));
  }
  if (stage === "seeded") hash.update(JSON.stringify(DEFAULT_PLANS));
  return hash.digest("hex").slice(0, 16);
}
