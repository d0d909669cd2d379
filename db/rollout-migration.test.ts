import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER, migrateDatabase } from "./migrate.ts";
import { createTestDatabase, type PgliteHandle } from "./testing.ts";

// Migration 0011 moves existing versions from canary|active|retired to the rollout states.
let handle: PgliteHandle;
let before: string;
beforeAll(async () => {
  handle = await createTestDatabase({ migrate: false });
  before = await mkdtemp(join(tmpdir(), "migrations-"));
  await cp(MIGRATIONS_FOLDER, before, { recursive: true });
  const journalPath = join(before, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8"));
  journal.entries = journal.entries.filter((e: { tag: string }) => e.tag < "0011");
  await writeFile(journalPath, JSON.stringify(journal));
});
afterAll(async () => {
  await handle?.close();
  await rm(before, { recursive: true, force: true });
});

describe("migration to rollout states", () => {
  it("makes the newest active version the default, other actives candidates, one canary", async () => {
    await migrateDatabase(handle, before);
    const q = (sql: string) => handle.db.$client.query(sql);
    await q(`insert into models (id, name) values ('mdl_a', 'a'), ('mdl_b', 'b')`);
    const version = (id: string, model: string, status: string, share: number, at: string) =>
      q(`insert into model_versions (id, model_id, version, sha256, uri, bytes, pipeline, status,
           traffic_share, price_per_megapixel_microusd, manifest, created_at)
         values ('${id}', '${model}', '${id}', '${"a".repeat(64)}', 'file:///x', 1, 'cppn',
           '${status}', ${share}, 1, '{}', '${at}')`);
    await version("a1", "mdl_a", "active", 1, "2026-01-01");
    await version("a2", "mdl_a", "active", 1, "2026-02-01");
    await version("a3", "mdl_a", "canary", 0.1, "2026-03-01");
    await version("a4", "mdl_a", "canary", 0.2, "2026-04-01");
    await version("b1", "mdl_b", "retired", 0, "2026-01-01");
    await migrateDatabase(handle);
    const { rows } = await q(`select id, status, traffic_share from model_versions order by id`);
    expect(rows).toEqual([
      { id: "a1", status: "candidate", traffic_share: 0 },
      { id: "a2", status: "default", traffic_share: 0 },
      { id: "a3", status: "candidate", traffic_share: 0 },
      { id: "a4", status: "canary", traffic_share: 0.2 },
      { id: "b1", status: "retired", traffic_share: 0 },
    ]);
  });
});
