import { createDatabase, type Database, type DatabaseHandle } from "../../db/client/index.ts";
import { startWireGateway, type WireGateway } from "../../db/local/wire-gateway.ts";

export interface WireDatabase {
  gateway: WireGateway;
  /** The stack's own connection (the admin control port), through the gateway like the edge's. */
  admin: Database;
  close(): Promise<void>;
}

/**
 * The stack's PGlite, served over the Postgres wire for an edge in another process (wrangler dev,
 * deno). From then on the stack's own queries go through the gateway too, so they take their turn
 * with the edge's instead of running inside one of its transactions.
 */
export async function serveOverWire(
  database: DatabaseHandle,
  { maxConnections }: { maxConnections: number },
): Promise<WireDatabase> {
  if (database.driver !== "pglite") throw new Error("only the embedded database is served");
  const gateway = await startWireGateway(database.db.$client, { maxConnections });
  try {
    const admin = await createDatabase({
      kind: "postgres",
      url: gateway.postgresUrl,
      maxConnections: 2,
    });
    return {
      gateway,
      admin: admin.db,
      async close() {
        await admin.close();
        await gateway.close();
      },
    };
  } catch (error) {
    await gateway.close();
    throw error;
  }
}
