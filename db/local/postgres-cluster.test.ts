import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../client/index.ts";
import type { DatabaseHandle } from "../client/types.ts";
import { migrateDatabase } from "../migrate.ts";
import { getPlan, seedPlans } from "../queries/accounts.ts";
import {
  migrationsWithoutVector,
  postgresServerAvailable,
  startPostgresCluster,
  type PostgresCluster,
} from "./postgres-cluster.ts";

// The schema as deployed, less pgvector, on this machine's PostgreSQL server (bench:edge's
// Postgres path): every migration applies and the seeded plans read back.

describe.skipIf(!postgresServerAvailable())("a PostgreSQL cluster without pgvector", () => {
  let cluster: PostgresCluster;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    cluster = await startPostgresCluster({ fsync: false });
    handle = await createDatabase(cluster.url);
  });
  afterAll(async () => {
    await handle?.close();
    await cluster?.close();
  });

  it("takes every migration, vector columns as real[]", async () => {
    await migrateDatabase(handle, await migrationsWithoutVector(cluster.dir));
    await seedPlans(handle.db);
    expect(await getPlan(handle.db, "pro")).toMatchObject({ id: "pro" });
    if (handle.driver !== "node-postgres") throw new Error("expected node-postgres");
    const { rows } = await handle.db.$client.query<{ type: string }>(
      "select data_type as type from information_schema.columns where table_name = 'style_embeddings' and column_name = 'embedding'",
    );
    expect(rows[0]?.type).toBe("ARRAY");
  });
});
