import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { createDatabase } from "../../db/client/index.ts";
import { startWireGateway } from "../../db/local/wire-gateway.ts";
import { freePort } from "./free-port.ts";
import type { EdgeLauncher } from "./run-local-stack.ts";
import { ScheduledTicker } from "./scheduled-ticker.ts";
import { workerLogFilter } from "./welcome.ts";
import { writeDotenvFile, workerDevVars } from "./worker-dev-vars.ts";
import { WranglerDevProcess } from "./wrangler-dev-process.ts";

/**
 * `npm run dev:worker`'s edge: the Worker (edge/entry/worker.ts) under `wrangler dev`, reaching the
 * stack's PGlite through the wire gateway's Neon-style WebSocket proxy, exactly as a deployed Worker
 * reaches Neon. From then on the stack's own queries (the admin control port) go through the gateway
 * too, so they take their turn with the Worker's instead of running inside its transactions.
 */
export const wranglerEdge: EdgeLauncher = async (ctx) => {
  const { config, database, stopping } = ctx;
  if (database.driver !== "pglite") throw new Error("dev:worker serves the embedded database");
  const dir = join(config.dataDir, "wrangler");
  await mkdir(dir, { recursive: true });
  const envFile = join(dir, "worker.env");

  // Each Worker request opens its own connections; the limiter tests send 100 submits at once.
  const gateway = await startWireGateway(database.db.$client, { maxConnections: 128 });
  const admin = await createDatabase({
    kind: "postgres",
    url: gateway.postgresUrl,
    maxConnections: 2,
  });
  let wrangler: WranglerDevProcess | undefined;
  const ticker = new ScheduledTicker(`${ctx.url}/cdn-cgi/local/scheduled`);
  const close = async () => {
    ticker.stop();
    await wrangler?.stop();
    await admin.close();
    await gateway.close();
    await rm(envFile, { force: true });
  };
  try {
    await writeDotenvFile(
      envFile,
      workerDevVars({
        regions: ctx.regions.map((r) => r.config),
        secrets: ctx.secrets,
        databaseUrl: gateway.neon.url,
      }),
    );
    const keep = workerLogFilter(config.logLevel);
    wrangler = new WranglerDevProcess({
      host: config.edgeHost,
      port: ctx.port,
      inspectorPort: await freePort(),
      envFile,
      // Development only, and not a secret: wrangler.toml documents it as a --var.
      vars: { NEON_WS_PROXY: gateway.neon.webSocketProxy },
      persistTo: join(dir, "state"),
      logDir: join(dir, "logs"),
      logLevel: config.logLevel,
      output: (line) => {
        if (keep(line)) console.log(line);
      },
    });
    await wrangler.ready(ctx.url, stopping);
  } catch (error) {
    await close();
    throw error;
  }
  ticker.start();
  return {
    runtime: "wrangler dev (workerd: Miniflare R2, Cache API, Durable Object limiter)",
    url: ctx.url,
    adminDb: admin.db,
    exited: wrangler.exited,
    close,
  };
};
