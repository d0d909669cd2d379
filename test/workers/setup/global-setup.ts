import { createHash, randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { outputKey } from "../../../contracts/region-protocol.ts";
import { createPgliteDatabase } from "../../../db/client/pglite.ts";
import { startWireGateway } from "../../../db/local/wire-gateway.ts";
import { migrateDatabase } from "../../../db/migrate.ts";
import { seedPlans } from "../../../db/queries/accounts.ts";
import { startRegionStandIn } from "../../../edge/testing/region-stand-in.ts";
import { seedWorkerTestData } from "./seed.ts";
import { startStandInInspector } from "./stand-in-inspector.ts";

// Runs in Node before the workerd tests: a real Postgres wire server (migrated PGlite with pgvector)
// behind the Neon-style WebSocket bridge the Worker's driver connects through, two signed region
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
  // Closed in reverse on teardown, or as soon as a later step fails.
  const opened: Array<{ close(): Promise<void> }> = [];
  const teardown = async () => {
    // PGlite's close() (Emscripten's exit) resets process.exitCode, which would turn a failed run
    // into exit status 0: keep the code Vitest set.
    const exitCode = process.exitCode;
    for (const resource of opened.reverse()) await resource.close().catch(() => {});
    process.exitCode = exitCode;
  };
  try {
    project.provide("workerBindings", await startAll(opened));
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

async function startAll(
  opened: Array<{ close(): Promise<void> }>,
): Promise<Record<string, string>> {
  const open = <T extends { close(): Promise<void> }>(resource: T): T => {
    opened.push(resource);
    return resource;
  };
  const secrets = {
    REGION_SIGNING_SECRET: randomBytes(32).toString("hex"),
    ASSET_URL_SECRET: randomBytes(32).toString("hex"),
    API_KEY_PEPPER: randomBytes(16).toString("hex"),
  };
  const secret = secrets.REGION_SIGNING_SECRET;
  const busy = { kind: "busy", status: 503, retryAfterS: 5 } as const;
  const euWest = open(
    await startRegionStandIn({ name: "eu-west", lat: 53.3, lon: -6.3, secret, mode: busy }),
  );
  const usEast = open(await startRegionStandIn({ name: "us-east", lat: 39.0, lon: -77.5, secret }));
  // Far from every test client, and it never heartbeats: the lease sweep's "region went down".
  const apSouth = open(
    await startRegionStandIn({ name: "ap-south", lat: 19.1, lon: 72.9, secret }),
  );
  const origin = originObject("origin-region");
  usEast.objects.set(origin.key, origin);
  const regions = [euWest.config, usEast.config, apSouth.config];

  // Not db/testing.ts's createTestDatabase: it uses import.meta.resolve, which Vitest's module
  // runner (global setup) does not support.
  const handle = open(await createPgliteDatabase());
  await migrateDatabase(handle);
  await seedPlans(handle.db);
  const seed = await seedWorkerTestData(handle.db, { pepper: secrets.API_KEY_PEPPER, regions });
  // Each Worker request opens its own connections: room for the concurrency tests (100 submits
  // at once in account-limiter.test.ts).
  const gateway = open(await startWireGateway(handle.db.$client, { maxConnections: 128 }));
  const inspector = open(
    await startStandInInspector(
      new Map([
        ["eu-west", euWest],
        ["us-east", usEast],
        ["ap-south", apSouth],
      ]),
    ),
  );

  return {
    ...secrets,
    ENVIRONMENT: "development",
    // The base of callbacks and output URLs: what the tests' requests are addressed to.
    PUBLIC_URL: "https://edge.test",
    DATABASE_URL: gateway.neon.url,
    NEON_WS_PROXY: gateway.neon.webSocketProxy,
    REGIONS: JSON.stringify(regions),
    TEST_API_KEY: seed.apiKey,
    TEST_FRESH_API_KEY: seed.freshApiKey,
    TEST_REVOKED_API_KEY: seed.revokedApiKey,
    TEST_LIMITED_API_KEY: seed.limitedApiKey,
    TEST_INSPECTOR_URL: inspector.url,
    TEST_ORIGIN_OBJECT: JSON.stringify({
      key: origin.key,
      contentType: origin.contentType,
      base64: Buffer.from(origin.bytes).toString("base64"),
    }),
  };
}
