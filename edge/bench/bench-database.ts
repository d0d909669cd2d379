import type { Database } from "../../db/client/index.ts";
import { createDatabase, type DatabaseHandle } from "../../db/client/index.ts";
import { startDistanceProxy, type DistanceProxy } from "../../db/local/distance-proxy.ts";
import {
  migrationsWithoutVector,
  postgresServerAvailable,
  startPostgresCluster,
} from "../../db/local/postgres-cluster.ts";
import { startWireGateway } from "../../db/local/wire-gateway.ts";
import { migrateDatabase } from "../../db/migrate.ts";
import { seedPlans } from "../../db/queries/accounts.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";

// The databases bench:edge runs the edge against: PGlite in the edge's own process (the embedded
// default), and a database over the Postgres wire at a simulated distance (a PostgreSQL server
// when this machine has one, else PGlite served by the wire gateway), behind a distance proxy
// whose round trip can be changed between runs.

export interface BenchDatabase {
  /** What serves it, for the report. */
  kind: "pglite-in-process" | "postgresql-server" | "pglite-wire";
  /** Seeding and checks: straight to the database, never through the proxy. */
  admin: Database;
  /** A URL the Node edge opens (DATABASE_URL), through the proxy; null: in process. */
  edgeUrl: string | null;
  /** The distance in front of it; null for the in-process database. */
  distance: DistanceProxy | null;
  close(): Promise<void>;
}

/** The embedded default: PGlite in the edge's process (migrated, plans seeded). */
export async function inProcessDatabase(): Promise<BenchDatabase & { handle: PgliteHandle }> {
  const handle = await createTestDatabase();
  return {
    kind: "pglite-in-process",
    handle,
    admin: handle.db,
    edgeUrl: null,
    distance: null,
    close: () => handle.close(),
  };
}

/**
 * A database across a distance (the proxy's `setRoundTripMs` changes it between runs): a
 * PostgreSQL 15 server (schema less pgvector, db/local/postgres-cluster.ts) when initdb is on the
 * PATH, else PGlite behind the wire gateway. Commits on the server are not waited for on disk
 * (`synchronous_commit=off`): the disk of this shared machine is not the edge's cost, and a real
 * database's commit time is part of what the round trip stands for.
 */
export async function distantDatabase(): Promise<BenchDatabase & { distance: DistanceProxy }> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    let target: { host: string; port: number; url: string };
    let admin: DatabaseHandle;
    let kind: BenchDatabase["kind"];
    if (postgresServerAvailable()) {
      const cluster = await startPostgresCluster({ maxConnections: 200 });
      closers.push(cluster.close);
      admin = await createDatabase(cluster.url);
      closers.push(admin.close);
      await admin.db.execute("alter system set synchronous_commit = off");
      await admin.db.execute("select pg_reload_conf()");
      await migrateDatabase(admin, await migrationsWithoutVector(cluster.dir));
      await seedPlans(admin.db);
      target = { host: cluster.host, port: cluster.port, url: cluster.url };
      kind = "postgresql-server";
    } else {
      const pglite = await createTestDatabase();
      closers.push(pglite.close);
      const gateway = await startWireGateway(pglite.db.$client, { maxConnections: 64 });
      closers.push(gateway.close);
      admin = await createDatabase({
        kind: "postgres",
        url: gateway.postgresUrl,
        maxConnections: 2,
      });
      closers.push(admin.close);
      const url = new URL(gateway.postgresUrl);
      target = { host: url.hostname, port: Number(url.port), url: gateway.postgresUrl };
      kind = "pglite-wire";
    }
    const distance = await startDistanceProxy({ target, roundTripMs: 0 });
    closers.push(distance.close);
    return { kind, admin: admin.db, edgeUrl: distance.via(target.url), distance, close };
  } catch (err) {
    await close();
    throw err;
  }
}
