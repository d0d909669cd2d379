import { createHash, randomBytes } from "node:crypto";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import type { TestProject } from "vitest/node";
import { outputKey } from "../../../contracts/region-protocol.ts";
import { createPgliteDatabase } from "../../../db/client/pglite.ts";
import { migrateDatabase } from "../../../db/migrate.ts";
import { startRegionStandIn, type RegionStandIn } from "../../../edge/testing/region-stand-in.ts";
import { seedWorkerTestData } from "./seed.ts";
import { startStandInInspector } from "./stand-in-inspector.ts";
import { startWsTcpProxy } from "./ws-tcp-proxy.ts";

// Runs in Node before the workerd tests: a real Postgres wire server (PGlite with pgvector behind
// pglite-socket), the WebSocket proxy the Neon driver needs to reach it, two signed region
// stand-ins (the nearer one overloaded), and seed data. Everything listens on 127.0.0.1 ports
// chosen by the OS; addresses and this run's secrets reach the Worker as bindings.

declare module "vitest" {
  export interface ProvidedContext {
    workerBindings: Record<string, string>;
  }
}

/** Bytes the edge treats as opaque, under their content-addressed key. */
function originObject(label: string) {
  const bytes = new Uint8Array(Buffer.from(`\x89PNG\r\n\x1a\n${label.repeat(64)}`, "latin1"));
  const key = outputKey(createHash("sha256").update(bytes).digest("hex"), "png");
  return { key, contentType: "image/png", bytes };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const secrets = {
    REGION_SIGNING_SECRET: randomBytes(32).toString("hex"),
    ASSET_URL_SECRET: randomBytes(32).toString("hex"),
    API_KEY_PEPPER: randomBytes(16).toString("hex"),
  };
  const secret = secrets.REGION_SIGNING_SECRET;
  const busy = { kind: "busy", status: 503, retryAfterS: 5 } as const;
  const standIns = new Map<string, RegionStandIn>([
    [
      "eu-west",
      await startRegionStandIn({ name: "eu-west", lat: 53.3, lon: -6.3, secret, mode: busy }),
    ],
    ["us-east", await startRegionStandIn({ name: "us-east", lat: 39.0, lon: -77.5, secret })],
  ]);
  const origin = originObject("origin-region");
  standIns.get("us-east")!.objects.set(origin.key, origin);
  const regions = [...standIns.values()].map((s) => s.config);

  const handle = await createPgliteDatabase();
  await migrateDatabase(handle);
  const seed = await seedWorkerTestData(handle.db, { pepper: secrets.API_KEY_PEPPER, regions });
  const pg = new PGLiteSocketServer({
    db: handle.db.$client,
    host: "127.0.0.1",
    port: 0,
    maxConnections: 64,
  });
  await pg.start();
  const proxy = await startWsTcpProxy();
  const inspector = await startStandInInspector(standIns);

  project.provide("workerBindings", {
    ...secrets,
    ENVIRONMENT: "production",
    DATABASE_URL: `postgresql://postgres:postgres@${pg.getServerConn()}/postgres`,
    NEON_WS_PROXY: proxy.address,
    REGIONS: JSON.stringify(regions),
    TEST_API_KEY: seed.apiKey,
    TEST_FRESH_API_KEY: seed.freshApiKey,
    TEST_REVOKED_API_KEY: seed.revokedApiKey,
    TEST_INSPECTOR_URL: inspector.url,
    TEST_ORIGIN_OBJECT: JSON.stringify({
      key: origin.key,
      contentType: origin.contentType,
      base64: Buffer.from(origin.bytes).toString("base64"),
    }),
  });

  return async () => {
    await Promise.allSettled([
      inspector.close(),
      proxy.close(),
      ...[...standIns.values()].map((s) => s.close()),
    ]);
    await pg.stop();
    await handle.close();
  };
}
