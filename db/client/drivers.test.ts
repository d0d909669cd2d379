import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWireGateway, type WireGateway } from "../local/wire-gateway.ts";
import { MIGRATIONS_FOLDER, migrateDatabase } from "../migrate.ts";
import { createAccount, getPlan, seedPlans } from "../queries/accounts.ts";
import { createApiKey, findApiKeyByHash, hashApiKey } from "../queries/api-keys.ts";
import {
  completeGeneration,
  getGenerationForAccount,
  insertGeneration,
  listGenerations,
} from "../queries/generations.ts";
import { getStyleRecord, recordStyle } from "../queries/style-embeddings.ts";
import { PgStyleIndex } from "../../storage/style-index/pg-style-index.ts";
import { accounts } from "../schema/accounts.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createDatabase, type Database, type DatabaseHandle } from "./index.ts";

// The same query functions against all three drivers. node-postgres and Neon reach a PGlite through
// the wire gateway (Postgres protocol over TCP, and over a Neon-style WebSocket proxy), so both
// drivers run their real protocol code, and the migrations run through them from an empty cluster.

let direct: PgliteHandle;
let served: PgliteHandle;
let gateway: WireGateway;
let pg: DatabaseHandle;
let neon: DatabaseHandle;

beforeAll(async () => {
  [direct, served] = await Promise.all([
    createTestDatabase(),
    createTestDatabase({ migrate: false }),
  ]);
  gateway = await startWireGateway(served.db.$client);
  pg = await createDatabase(gateway.postgresUrl);
  neon = await createDatabase({ kind: "neon", ...gateway.neon });
  await migrateDatabase(pg);
  await migrateDatabase(neon);
  await seedPlans(neon.db);
});

afterAll(async () => {
  await Promise.all([pg?.close(), neon?.close()]);
  await gateway?.close();
  await Promise.all([served?.close(), direct?.close()]);
});

describe("migrations through the wire drivers", () => {
  it("applied every migration once, pgvector first, and seeded the plans", async () => {
    const journal = JSON.parse(
      await readFile(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"),
    ) as { entries: unknown[] };
    if (pg.driver !== "node-postgres") throw new Error("expected the node-postgres driver");
    const client = pg.db.$client;
    const applied = await client.query<{ n: number }>(
      "select count(*)::int as n from drizzle.__drizzle_migrations",
    );
    expect(applied.rows[0]?.n).toBe(journal.entries.length);
    const ext = await client.query("select 1 from pg_extension where extname = 'vector'");
    expect(ext.rowCount).toBe(1);
    expect(await getPlan(pg.db, "free")).toMatchObject({ lanes: ["standard", "relax"] });
  });
});

const drivers: Array<[string, () => Database]> = [
  ["pglite", () => direct.db],
  ["node-postgres", () => pg.db],
  ["neon", () => neon.db],
];

describe.each(drivers)("query layer on %s", (name, getDb) => {
  it("round-trips every column type the schema uses", async () => {
    const db = getDb();
    const plan = await getPlan(db, "pro");
    expect(plan).toMatchObject({
      monthlySpendCapMicrousd: 500_000_000,
      lanes: ["fast", "standard", "relax"],
      priceMultiplier: 1,
    });
    expect(plan?.createdAt).toBeInstanceOf(Date);

    const account = await createAccount(db, { name: `acct via ${name}`, planId: "pro" });
    const { key, record } = await createApiKey(db, { accountId: account.id, mode: "live" });
    const found = await findApiKeyByHash(db, await hashApiKey(key));
    expect(found?.apiKey).toEqual(record);
    expect(found?.account).toEqual(account);
    expect(found?.plan).toEqual(plan);

    const { generation } = await insertGeneration(db, {
      accountId: account.id,
      apiKeyId: record.id,
      model: "cppn-glove",
      modelVersion: "2026-11-27.1",
      prompt: "a quiet harbour at dawn",
      params: { width: 512, height: 512, seed: 42, priority: "fast" },
      metadata: { k: "v" },
      costEstimatedMicrousd: 9_007_199_254, // beyond int32: bigint must come back as a number
    });
    expect(await getGenerationForAccount(db, account.id, generation.id)).toEqual(generation);
    expect(generation.costEstimatedMicrousd).toBe(9_007_199_254);
    expect(generation.params).toEqual({ width: 512, height: 512, seed: 42, priority: "fast" });

    const done = await completeGeneration(db, generation.id, {
      assetKey: `${"a".repeat(64)}.png`,
      contentType: "image/png",
      bytes: 1234,
      width: 512,
      height: 512,
      outputSha256: "a".repeat(64),
      gpuMs: 87,
      costActualMicrousd: 410,
      region: "eu-west",
    });
    expect(done).toMatchObject({ status: "succeeded", gpuMs: 87, region: "eu-west" });

    const embedding = Array.from({ length: 128 }, (_, i) => (i === 7 ? 1 : 0));
    const styleVector = [0.125, -2.5, 1 / 3];
    await recordStyle(db, {
      generationId: generation.id,
      accountId: account.id,
      model: "cppn-glove",
      modelVersion: "2026-12-01.1",
      descriptor: "genart-style/1",
      embedding,
      styleSpace: "cppn-glove/latent32-ramp6x3",
      styleVector,
      generatedAt: generation.createdAt,
    });
    const style = await getStyleRecord(db, generation.id);
    expect(style?.embedding).toEqual(embedding);
    // real[] holds float32: the vector comes back as the same float32 values.
    expect(style?.styleVector?.map(Math.fround)).toEqual(styleVector.map(Math.fround));
    const index = new PgStyleIndex({ db, shard: 2 });
    await index.upsert([
      {
        id: generation.id,
        accountId: account.id,
        projectId: null,
        model: "cppn-glove",
        modelVersion: "2026-12-01.1",
        visibility: "private",
        hidden: false,
        generatedAt: generation.createdAt.getTime(),
        embedding,
      },
    ]);
    const hits = await index.query({ embedding, viewer: { accountId: account.id }, limit: 1 });
    expect(hits).toEqual([{ id: generation.id, distance: expect.closeTo(0, 6) }]);
  });

  it("pages with an opaque cursor", async () => {
    const db = getDb();
    const account = await createAccount(db, { name: "pager", planId: "free" });
    for (let i = 0; i < 3; i++) {
      await insertGeneration(db, {
        accountId: account.id,
        model: "cppn-glove",
        modelVersion: "1",
        prompt: `p${i}`,
        params: { width: 64, height: 64, seed: i, priority: "standard" },
      });
    }
    const first = await listGenerations(db, account.id, { limit: 2 });
    const second = await listGenerations(db, account.id, { limit: 2, cursor: first.nextCursor! });
    expect([...first.data, ...second.data].map((g) => g.prompt)).toEqual(["p2", "p1", "p0"]);
    expect(second.nextCursor).toBeNull();
  });

  it("rolls a failed transaction back", async () => {
    const db = getDb();
    const accountName = `rolled back via ${name}`;
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(accounts).values({ name: accountName, planId: "free" });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    const rows = await db.query.accounts.findMany({
      where: (a, { eq }) => eq(a.name, accountName),
    });
    expect(rows).toEqual([]);
  });
});

describe("one database, two wire drivers", () => {
  it("node-postgres and Neon read identical rows", async () => {
    const account = await createAccount(pg.db, { name: "shared", planId: "enterprise" });
    const viaNeon = await neon.db.query.accounts.findFirst({
      where: (a, { eq }) => eq(a.id, account.id),
    });
    expect(viaNeon).toEqual(account);
  });
});
