import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { EdgeProcess } from "./edge-process.ts";
import { edgeVars, writeDotenvFile } from "./edge-vars.ts";
import { freePort } from "./free-port.ts";
import type { EdgeLauncher } from "./run-local-stack.ts";
import { ScheduledTicker } from "./scheduled-ticker.ts";
import { logLineFilter } from "./welcome.ts";
import { serveOverWire } from "./wire-database.ts";
import { startWranglerDev } from "./wrangler-dev-process.ts";

/**
 * `npm run dev:worker`'s edge: the Worker (edge/entry/worker.ts) under `wrangler dev`, reaching the
 * stack's PGlite through the wire gateway's Neon-style WebSocket proxy, as a deployed Worker reaches
 * Neon.
 */
export const wranglerEdge: EdgeLauncher = async (ctx) => {
  const { config } = ctx;
  const dir = join(config.dataDir, "wrangler");
  await mkdir(dir, { recursive: true });
  const envFile = join(dir, "worker.env");
  // Each Worker request opens its own connections; the limiter tests send 100 submits at once.
  const wire = await serveOverWire(ctx.database, { maxConnections: 128 });
  let wrangler: EdgeProcess | undefined;
  const ticker = new ScheduledTicker(`${ctx.url}/cdn-cgi/local/scheduled`);
  const close = async () => {
    ticker.stop();
    await wrangler?.stop();
    await wire.close();
    await rm(envFile, { force: true });
  };
  try {
    const vars = edgeVars({
      publicUrl: ctx.url,
      regions: ctx.regions.map((r) => r.config),
      secrets: ctx.secrets,
      databaseUrl: wire.gateway.neon.url,
    });
    await writeDotenvFile(envFile, vars);
    const keep = logLineFilter(config.logLevel);
    wrangler = startWranglerDev({
      host: config.edgeHost,
      port: ctx.port,
      inspectorPort: await freePort(),
      envFile,
      // Development only, and not a secret: wrangler.toml documents it as a --var.
      vars: { NEON_WS_PROXY: wire.gateway.neon.webSocketProxy },
      persistTo: join(dir, "state"),
      logDir: join(dir, "logs"),
      logLevel: config.logLevel,
      output: (line) => {
        if (keep(line)) console.log(line);
      },
    });
    await wrangler.ready(ctx.url, ctx.stopping);
  } catch (error) {
    await close();
    throw error;
  }
  ticker.start();
  return {
    runtime:
      "wrangler dev (workerd: Miniflare R2, Cache API, Durable Object limiter; cron each minute)",
    url: ctx.url,
    adminDb: wire.admin,
    exited: wrangler.exited,
    close,
  };
};
