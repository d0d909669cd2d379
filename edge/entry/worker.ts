import { AsyncLocalStorage } from "node:async_hooks";
import { z } from "zod";
import { createNeonDatabase } from "../../db/client/neon.ts";
import type { Database } from "../../db/client/types.ts";
import { R2ObjectStore } from "../../storage/r2.ts";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { createEdge } from "../app.ts";
import type { EdgeServices } from "../deps.ts";
import { sweepLeases } from "../generations/lease-sweep.ts";
import { rolloutTick } from "../../flywheel/rollout/controller.ts";
import { purgeRemovedOutputs } from "../feedback/purge-removed.ts";
import { sweepDeps } from "../routes/generation-deps.ts";
import { BackgroundTasks } from "../lib/background-tasks.ts";
import { StyleShardsVar, vectorizeStyleIndex } from "../search/vectorize-shards.ts";
import { DurableObjectAccountLimiter } from "../limits/durable-object-limiter.ts";
import { DurableObjectNonceStore } from "../security/durable-object-nonce-store.ts";
import { WebhookDispatcher } from "../webhooks/webhook-dispatcher.ts";
import { NodeEdgeEnv, resolveEdgeSecrets } from "./node-config.ts";

// Cloudflare Workers entry. The app and its in-isolate state (key cache, region directory, waiters)
// are built once per isolate from `env`; the database is opened per request and closed after the
// request's background work, because a Neon WebSocket belongs to the request that opened it.

type WorkerEnv = Env & {
  /** Development only: `host:port/path` of a local WebSocket-to-Postgres proxy (see wrangler.toml). */
  NEON_WS_PROXY?: string;
};

const WorkerConfig = NodeEdgeEnv.pick({
  REGIONS: true,
  REGION_SIGNING_KEYS: true,
  REGION_SIGNING_SECRET: true,
  ASSET_URL_SECRET: true,
  API_KEY_PEPPER: true,
  WEBHOOK_SECRETS_KEY: true,
  WEBHOOK_SECRETS_KEY_PREVIOUS: true,
  PUBLIC_URL: true,
  // Production unless the environment says development (only `wrangler dev --env dev` does).
  ENVIRONMENT: true,
})
  // PUBLIC_URL: required in production (resolveEdgeSecrets), and by the cron trigger's lease sweep
  // (no request to take the callback base from): development falls back to wrangler dev's origin.
  .required({ REGIONS: true })
  .extend({
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL (Neon)"),
    NEON_WS_PROXY: z.string().min(1).optional(),
    // Vectorize shards of the style index; absent: the style index is in Postgres.
    STYLE_SHARDS: StyleShardsVar.optional(),
  })
  // The proxy speaks plain ws://: never let a deployment send credentials that way.
  .refine((c) => !c.NEON_WS_PROXY || c.ENVIRONMENT === "development", {
    path: ["NEON_WS_PROXY"],
    message: "NEON_WS_PROXY is for local development only",
  });
type WorkerConfig = z.infer<typeof WorkerConfig>;

// Workers cancel waitUntil work 30 s after the response; close the connections before that.
const BACKGROUND_GRACE_MS = 25_000;

type RequestScope = { db: Database; background: BackgroundTasks };
const requestScope = new AsyncLocalStorage<RequestScope>();
function scope(): RequestScope {
  const current = requestScope.getStore();
  if (!current) throw new Error("the database and waitUntil exist only inside a request");
  return current;
}

// The app holds one `db`; every call on it goes to the current request's own connection pool.
const requestDb = new Proxy({} as Database, {
  get(_target, prop) {
    const { db } = scope();
    const value: unknown = Reflect.get(db, prop, db);
    return typeof value === "function" ? value.bind(db) : value;
  },
});

// Development (wrangler dev) without PUBLIC_URL: the origin wrangler serves on. Production cannot
// start without it (resolveEdgeSecrets).
const publicUrlOf = (config: WorkerConfig) => config.PUBLIC_URL ?? "http://127.0.0.1:8787";

type Isolate = {
  app: OpenAPIHono<AppEnv>;
  services: EdgeServices;
  config: WorkerConfig;
  webhooks: WebhookDispatcher;
};
let isolate: Promise<Isolate> | undefined;
function isolateFor(env: WorkerEnv): Promise<Isolate> {
  // A failed start is not kept: the next request tries again (and says what is missing again).
  isolate ??= buildIsolate(env).catch((err: unknown) => {
    isolate = undefined;
    throw err;
  });
  return isolate;
}

const log = (entry: Record<string, unknown>) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));

async function buildIsolate(env: WorkerEnv): Promise<Isolate> {
  const parsed = WorkerConfig.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid Worker configuration\n${z.prettifyError(parsed.error)}`);
  }
  const config = parsed.data;
  const secrets = await resolveEdgeSecrets(
    config,
    config.ENVIRONMENT,
    config.REGIONS.map((r) => r.name),
    log,
  );
  // No timer outlives a request here: first attempts ride on waitUntil, later ones are sent by
  // the cron trigger (`scheduled` below) from the webhook_deliveries rows.
  const webhooks = new WebhookDispatcher({
    db: requestDb,
    fetch: (input, init) => fetch(input, init),
    secretsKeys: secrets.webhookSecretsKeys,
    assetUrlSecret: secrets.assetUrl,
    environment: config.ENVIRONMENT,
    log,
    waitUntil: (work) => scope().background.add(work),
    retries: "external",
  });
  const { app, services } = createEdge({
    db: requestDb,
    assets: new R2ObjectStore(env.ASSETS),
    responseCache: caches.default,
    regions: config.REGIONS,
    secrets,
    publicUrl: publicUrlOf(config),
    environment: config.ENVIRONMENT,
    limiter: new DurableObjectAccountLimiter(env.ACCOUNT_LIMITER),
    nonces: new DurableObjectNonceStore(env.REPLAY_GUARD),
    // Set by Cloudflare on every request; a client cannot choose it.
    clientAddress: (c) => c.req.header("cf-connecting-ip"),
    waitUntil: (work) => scope().background.add(work),
    webhooks,
    ...(config.STYLE_SHARDS && {
      styleIndex: vectorizeStyleIndex(
        config.STYLE_SHARDS,
        env as unknown as Record<string, unknown>,
      ),
    }),
  });
  return { app, services, config, webhooks };
}

// The Durable Object classes behind ACCOUNT_LIMITER and REPLAY_GUARD (wrangler.toml).
export { AccountLimiterObject as AccountLimiter } from "../limits/account-limiter-object.ts";
export { NonceStoreObject as ReplayGuard } from "../security/nonce-store-object.ts";

export default {
  async fetch(request, env, ctx) {
    const { app, config } = await isolateFor(env);
    const handle = createNeonDatabase({
      url: config.DATABASE_URL,
      webSocketProxy: config.NEON_WS_PROXY,
    });
    const current: RequestScope = { db: handle.db, background: new BackgroundTasks() };
    const response = await requestScope.run(current, () => app.fetch(request, env, ctx));
    // An event stream reads the database until it ends (Workers keep a request alive while its
    // response streams): the grace for background work starts after it.
    const streamed = streamEnd(response);
    // After the response: the request's background work, then its connections.
    ctx.waitUntil(
      streamed.ended.then(() => current.background.drain(BACKGROUND_GRACE_MS)).then(handle.close),
    );
    return streamed.response;
  },

  // Cron trigger (wrangler.toml [triggers]): webhook attempts that are due, the lease sweep (jobs
  // whose region was lost go elsewhere), and style records the style index has not taken yet.
  async scheduled(_controller, env, ctx) {
    const { config, services, webhooks } = await isolateFor(env);
    const handle = createNeonDatabase({
      url: config.DATABASE_URL,
      webSocketProxy: config.NEON_WS_PROXY,
    });
    const current: RequestScope = { db: handle.db, background: new BackgroundTasks() };
    // Isolates come and go while the edge stays up: silence is judged at once (judgeSilenceFrom 0).
    const sweep = () =>
      sweepLeases({ callbackBase: publicUrlOf(config), judgeSilenceFrom: 0 }, sweepDeps(services));
    ctx.waitUntil(
      requestScope
        .run(current, () =>
          Promise.all([
            webhooks.deliverDue(),
            sweep(),
            services.styleSync.kick(),
            purgeRemovedOutputs(services),
            // The rollout controller: promote or roll back canaries (flywheel/rollout).
            rolloutTick(services.db, log),
          ]),
        )
        .then(() => current.background.drain(BACKGROUND_GRACE_MS))
        .finally(handle.close),
    );
  },
} satisfies ExportedHandler<WorkerEnv>;

/** `response` as sent, and when its body has been read to the end (or the client went away). */
function streamEnd(response: Response): { response: Response; ended: Promise<void> } {
  if (!response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
    return { response, ended: Promise.resolve() };
  }
  const { readable, writable } = new TransformStream();
  const ended = response.body.pipeTo(writable).catch(() => {});
  return { response: new Response(readable, response), ended };
}
