import type { Hono } from "hono";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import {
  createDatabase,
  resolveDatabaseConfig,
  type Database,
  type DatabaseConfig,
  type DatabaseHandle,
} from "../../db/client/index.ts";
import { migrateDatabase } from "../../db/migrate.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import type { AppEnv } from "../app-env.ts";
import { createEdge } from "../app.ts";
import { rolloutTick } from "../../flywheel/rollout/controller.ts";
import { sweepLeases } from "../generations/lease-sweep.ts";
import { LeaseSweeper } from "../generations/lease-sweeper.ts";
import { purgeRemovedOutputs } from "../feedback/purge-removed.ts";
import { sweepDeps } from "../routes/generation-deps.ts";
import { DEFAULT_TUNING } from "../tuning.ts";
import type { EdgeDeps, EdgeServices } from "../deps.ts";
import type { Log } from "../lib/log.ts";
import type { ResponseCache } from "../assets/response-cache.ts";
import { BackgroundTasks } from "../lib/background-tasks.ts";
import { createNodeWebhookFetch } from "../webhooks/node-webhook-fetch.ts";
import { WebhookDispatcher, webhookTuning } from "../webhooks/webhook-dispatcher.ts";
import { readNodeEdgeEnv, resolveEdgeSecrets } from "./node-config.ts";

// Start-up and shutdown shared by the long-lived server entries (node.ts, deno.ts): configuration,
// secrets, the database, webhooks, background work. Each entry brings only its HTTP server.

export interface StartEdgeOptions {
  /** Default EDGE_PORT, else 8787; 0 lets the OS choose. */
  port?: number;
  /** Default EDGE_HOST, else 127.0.0.1. */
  host?: string;
  /** An open database (the caller closes it); otherwise one is opened from DATABASE_URL. */
  db?: Database;
  databaseUrl?: string;
  /** Default: REGIONS (JSON). */
  regions?: RegionConfig[];
  /** The edge asset store's folder; default EDGE_ASSETS_DIR, else .data/edge-cache. */
  assetsDir?: string;
  secrets?: EdgeDeps["secrets"];
  /** Default PUBLIC_URL; in development, else the address this edge listens on. */
  publicUrl?: string;
  /** Default ENVIRONMENT, else production. */
  environment?: EdgeDeps["environment"];
  log?: EdgeDeps["log"];
  fetch?: EdgeDeps["fetch"];
  /** For webhook deliveries; default: DNS-checked (SSRF) in production, plain fetch otherwise. */
  webhookFetch?: typeof fetch;
  clock?: EdgeDeps["clock"];
  tuning?: EdgeDeps["tuning"];
  /** Where unset options come from; default: the process's environment. */
  env?: Record<string, string | undefined>;
  /** How long close() lets open requests (e.g. `Prefer: wait`) and background work finish. */
  shutdownGraceMs?: number;
}

export interface RunningEdge {
  url: string;
  app: Hono<AppEnv>;
  /** The lease sweep's timer (`runOnce` for tests). */
  sweeper: LeaseSweeper;
  /** Stops accepting, lets in-flight requests and background work finish, closes what it opened. */
  close(): Promise<void>;
}

/** A listening HTTP server of one runtime. */
export interface EdgeServer {
  url: string;
  /** Stops accepting; resolves once open requests have finished, or were cut off after graceMs. */
  stop(graceMs: number): Promise<void>;
}

/** What a runtime's server calls for each request. */
export type EdgeHandler = Pick<Hono<AppEnv>, "fetch">;

export interface EdgeRuntime {
  /** The process's environment (process.env, Deno.env). */
  env: Record<string, string | undefined>;
  /** Serves `handler`; rejects when it cannot listen (the port is taken, ...). */
  listen(handler: EdgeHandler, port: number, hostname: string): Promise<EdgeServer>;
  /** In front of the asset store, where the runtime has a Cache API. */
  responseCache?: ResponseCache;
  /** The connection's peer, from what the runtime's server passes the app as its env. */
  clientAddress: EdgeDeps["clientAddress"];
}

/** Builds the edge from options and environment and serves it with the runtime's server. */
export async function startServerEdge(
  opts: StartEdgeOptions,
  runtime: EdgeRuntime,
): Promise<RunningEdge> {
  const env = readNodeEdgeEnv(opts.env ?? runtime.env);
  const environment = opts.environment ?? env.ENVIRONMENT;
  const log = opts.log ?? jsonLog;
  const regions = opts.regions ?? env.REGIONS;
  if (!regions) throw new Error("no regions: pass `regions` or set REGIONS (a JSON array)");
  const secrets =
    opts.secrets ??
    (await resolveEdgeSecrets(
      env,
      environment,
      regions.map((r) => r.name),
      log,
    ));
  const configuredUrl = opts.publicUrl ?? env.PUBLIC_URL;
  if (!configuredUrl && environment === "production") {
    throw new Error("PUBLIC_URL is required in production (the edge's own base URL)");
  }

  let owned: DatabaseHandle | undefined;
  let db = opts.db;
  if (!db) {
    owned = await createDatabase(
      databaseConfigOf(opts.databaseUrl ?? env.DATABASE_URL, env.DATABASE_MAX_CONNECTIONS),
    );
    // The embedded database is this process's own: bring it up to date. Shared databases are
    // migrated by `npm run db:migrate` before a deploy.
    if (owned.driver === "pglite") await migrateDatabase(owned);
    db = owned.db;
  }

  const tasks = new BackgroundTasks();
  // Retries run on timers in this process; start() below resumes what an earlier one left pending.
  const webhooks = new WebhookDispatcher({
    db,
    fetch: opts.webhookFetch ?? (environment === "production" ? createNodeWebhookFetch() : fetch),
    secretsKeys: secrets.webhookSecretsKeys,
    assetUrlSecret: secrets.assetUrl,
    environment,
    clock: opts.clock,
    log,
    waitUntil: tasks.add,
    retries: "timers",
    ...webhookTuning({ ...DEFAULT_TUNING, ...opts.tuning }),
  });
  const build = (publicUrl: string) =>
    createEdge({
      db,
      assets: new FsObjectStore(opts.assetsDir ?? env.EDGE_ASSETS_DIR),
      responseCache: runtime.responseCache,
      regions,
      secrets,
      publicUrl,
      environment,
      clock: opts.clock,
      fetch: opts.fetch,
      waitUntil: tasks.add,
      log,
      tuning: opts.tuning,
      webhooks,
      clientAddress: runtime.clientAddress,
    });
  // Development without PUBLIC_URL: the address it listens on, known once it listens (port 0).
  let edge = configuredUrl ? build(configuredUrl) : undefined;
  const handler: EdgeHandler = {
    fetch: (request, env, ctx) =>
      edge ? edge.app.fetch(request, env, ctx) : new Response("starting", { status: 503 }),
  };

  let server: EdgeServer;
  try {
    server = await runtime.listen(handler, opts.port ?? env.EDGE_PORT, opts.host ?? env.EDGE_HOST);
  } catch (err) {
    await owned?.close();
    throw err;
  }
  const { url } = server;
  edge ??= build(url);
  const { app, services } = edge;
  log({
    level: "info",
    msg: "edge listening",
    url,
    environment,
    regions: regions.map((r) => r.name),
  });
  webhooks.start();
  const sweeper = leaseSweeperOf(services, { callbackBase: services.publicUrl, log });
  sweeper.start();
  // Style records an earlier process left unindexed (it stopped between commit and sync).
  tasks.add(services.styleSync.kick());

  const graceMs = opts.shutdownGraceMs ?? 10_000;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await server.stop(graceMs);
      await sweeper.stop();
      webhooks.stop();
      await tasks.drain(graceMs);
      await owned?.close();
      log({ level: "info", msg: "edge stopped" });
    })());
  return { url, app, close, sweeper };
}

/**
 * The lease sweep of a long-lived edge: first at start (it reconciles what an earlier process left
 * in flight), then on a timer. Silence is judged one heartbeat TTL after start: an edge that was
 * down itself heard no heartbeats, however alive the regions were.
 */
function leaseSweeperOf(
  services: EdgeServices,
  { callbackBase, log }: { callbackBase: string; log: Log },
): LeaseSweeper {
  const deps = sweepDeps(services);
  const judgeSilenceFrom = services.clock() + services.tuning.heartbeatTtlMs;
  let lastRollout = -Infinity;
  return new LeaseSweeper({
    sweep: async ({ first }) => {
      const swept = await sweepLeases({ callbackBase, judgeSilenceFrom, atStart: first }, deps);
      await purgeRemovedOutputs(services);
      // The rollout controller rides the same timer, at most once a minute.
      const every = services.tuning.rolloutIntervalMs;
      if (every > 0 && services.clock() - lastRollout >= every) {
        lastRollout = services.clock();
        await rolloutTick(services.db, log);
      }
      return swept;
    },
    intervalMs: services.tuning.sweepIntervalMs,
    log,
  });
}

function databaseConfigOf(url: string, maxConnections: number | undefined): DatabaseConfig {
  const config = resolveDatabaseConfig(url);
  return config.kind === "postgres" && maxConnections ? { ...config, maxConnections } : config;
}

/** The entries' default log: one JSON object per line on stdout. */
export const jsonLog: Log = (entry) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));

/** `http://host:port`, with an IPv6 address in brackets. */
export const httpUrlOf = (hostname: string, port: number) =>
  `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
