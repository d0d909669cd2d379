import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import { createDatabase, type Database, type DatabaseHandle } from "../../db/client/index.ts";
import { migrateDatabase } from "../../db/migrate.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import type { AppEnv } from "../app-env.ts";
import { createApp } from "../app.ts";
import { DEFAULT_TUNING, type EdgeDeps } from "../deps.ts";
import { BackgroundTasks } from "../lib/background-tasks.ts";
import { createNodeWebhookFetch } from "../webhooks/node-webhook-fetch.ts";
import { webhookSigningKeyOf } from "../webhooks/signing.ts";
import { WebhookDispatcher, webhookTuning } from "../webhooks/webhook-dispatcher.ts";
import { readNodeEdgeEnv } from "./node-config.ts";

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
  publicUrl?: string;
  environment?: EdgeDeps["environment"];
  log?: EdgeDeps["log"];
  fetch?: EdgeDeps["fetch"];
  /** For webhook deliveries; default: DNS-checked (SSRF) in production, plain fetch otherwise. */
  webhookFetch?: typeof fetch;
  clock?: EdgeDeps["clock"];
  tuning?: EdgeDeps["tuning"];
  /** Where unset options come from; default process.env. */
  env?: Record<string, string | undefined>;
  /** How long close() lets open requests (e.g. `Prefer: wait`) and background work finish. */
  shutdownGraceMs?: number;
}

export interface RunningEdge {
  url: string;
  app: Hono<AppEnv>;
  /** Stops accepting, lets in-flight requests and background work finish, closes what it opened. */
  close(): Promise<void>;
}

/** Serves the edge app on Node (@hono/node-server) with the Node dependencies. */
export async function startEdge(opts: StartEdgeOptions = {}): Promise<RunningEdge> {
  const env = readNodeEdgeEnv(opts.env ?? process.env);
  const environment = opts.environment ?? env.ENVIRONMENT;
  const log =
    opts.log ??
    ((entry) => console.log(JSON.stringify({ time: new Date().toISOString(), ...entry })));
  const regions = opts.regions ?? env.REGIONS;
  if (!regions) throw new Error("no regions: pass `regions` or set REGIONS (a JSON array)");
  const secrets = opts.secrets ?? resolveSecrets(env, environment, log);

  let owned: DatabaseHandle | undefined;
  let db = opts.db;
  if (!db) {
    owned = await createDatabase(opts.databaseUrl ?? env.DATABASE_URL);
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
    signingKey: webhookSigningKeyOf(secrets),
    previousSigningKey: secrets.webhookSigningPrevious,
    assetUrlSecret: secrets.assetUrl,
    environment,
    clock: opts.clock,
    log,
    waitUntil: tasks.add,
    retries: "timers",
    ...webhookTuning({ ...DEFAULT_TUNING, ...opts.tuning }),
  });
  const app = createApp({
    db,
    assets: new FsObjectStore(opts.assetsDir ?? env.EDGE_ASSETS_DIR),
    regions,
    secrets,
    publicUrl: opts.publicUrl ?? env.PUBLIC_URL,
    environment,
    clock: opts.clock,
    fetch: opts.fetch,
    waitUntil: tasks.add,
    log,
    tuning: opts.tuning,
    webhooks,
  });

  let server: Server;
  try {
    server = await listen(app, opts.port ?? env.EDGE_PORT, opts.host ?? env.EDGE_HOST);
  } catch (err) {
    await owned?.close();
    throw err;
  }
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
  log({
    level: "info",
    msg: "edge listening",
    url,
    environment,
    regions: regions.map((r) => r.name),
  });
  webhooks.start();

  const graceMs = opts.shutdownGraceMs ?? 10_000;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      webhooks.stop();
      await tasks.drain(graceMs);
      await owned?.close();
      log({ level: "info", msg: "edge stopped" });
    })());
  return { url, app, close };
}

function listen(app: Hono<AppEnv>, port: number, hostname: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname }) as Server;
    server.once("listening", () => {
      server.off("error", reject);
      resolve(server);
    });
    server.once("error", reject);
  });
}

function resolveSecrets(
  env: ReturnType<typeof readNodeEdgeEnv>,
  environment: EdgeDeps["environment"],
  log: NonNullable<EdgeDeps["log"]>,
): EdgeDeps["secrets"] {
  if (!env.REGION_SIGNING_SECRET) {
    throw new Error("REGION_SIGNING_SECRET is required (the HMAC secret shared with the regions)");
  }
  let assetUrl = env.ASSET_URL_SECRET;
  if (!assetUrl) {
    if (environment === "production") throw new Error("ASSET_URL_SECRET is required in production");
    assetUrl = randomBytes(32).toString("hex");
    log({
      level: "warn",
      msg: "ASSET_URL_SECRET unset: signed asset URLs last until this process exits",
    });
  }
  return {
    regionSigning: env.REGION_SIGNING_SECRET,
    assetUrl,
    apiKeyPepper: env.API_KEY_PEPPER,
    webhookSigning: env.WEBHOOK_SIGNING_SECRET,
    webhookSigningPrevious: env.WEBHOOK_SIGNING_SECRET_PREVIOUS,
  };
}

async function main(): Promise<void> {
  let edge: RunningEdge;
  try {
    edge = await startEdge();
  } catch (err) {
    console.error(`edge: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  const stop = () => void edge.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (import.meta.main) await main();
