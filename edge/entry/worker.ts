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
import { sweepDeps } from "../routes/generation-deps.ts";
import { BackgroundTasks } from "../lib/background-tasks.ts";
import { DurableObjectAccountLimiter } from "../limits/durable-object-limiter.ts";
import { webhookSigningKeyOf } from "../webhooks/signing.ts";
import { WebhookDispatcher } from "../webhooks/webhook-dispatcher.ts";
import { NodeEdgeEnv } from "./node-config.ts";

// Cloudflare Workers entry. The app and its in-isolate state (key cache, region directory, waiters)
// are built once per isolate from `env`; the database is opened per request and closed after the
// request's background work, because a Neon WebSocket belongs to the request that opened it.

type WorkerEnv = Env & {
  /** Development only: `host:port/path` of a local WebSocket-to-Postgres proxy (see wrangler.toml). */
  NEON_WS_PROXY?: string;
};

const WorkerConfig = NodeEdgeEnv.pick({
  PUBLIC_URL: true,
  REGIONS: true,
  REGION_SIGNING_SECRET: true,
  ASSET_URL_SECRET: true,
  API_KEY_PEPPER: true,
  WEBHOOK_SIGNING_SECRET: true,
  WEBHOOK_SIGNING_SECRET_PREVIOUS: true,
})
  // PUBLIC_URL: the cron trigger's lease sweep has no request to take the callback base from.
  .required({
    PUBLIC_URL: true,
    REGIONS: true,
    REGION_SIGNING_SECRET: true,
    ASSET_URL_SECRET: true,
  })
  .extend({
    // No default here: every [env.*] section must say which it is (vars are not inherited).
    ENVIRONMENT: NodeEdgeEnv.shape.ENVIRONMENT.unwrap(),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL (Neon)"),
    NEON_WS_PROXY: z.string().min(1).optional(),
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

let isolate:
  | {
      app: OpenAPIHono<AppEnv>;
      services: EdgeServices;
      config: WorkerConfig;
      webhooks: WebhookDispatcher;
    }
  | undefined;
function isolateFor(env: WorkerEnv): NonNullable<typeof isolate> {
  if (isolate) return isolate;
  const parsed = WorkerConfig.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid Worker configuration\n${z.prettifyError(parsed.error)}`);
  }
  const config = parsed.data;
  const secrets = {
    regionSigning: config.REGION_SIGNING_SECRET,
    assetUrl: config.ASSET_URL_SECRET,
    apiKeyPepper: config.API_KEY_PEPPER,
    webhookSigning: config.WEBHOOK_SIGNING_SECRET,
    webhookSigningPrevious: config.WEBHOOK_SIGNING_SECRET_PREVIOUS,
  };
  // No timer outlives a request here: first attempts ride on waitUntil, later ones are sent by
  // the cron trigger (`scheduled` below) from the webhook_deliveries rows.
  const webhooks = new WebhookDispatcher({
    db: requestDb,
    fetch: (input, init) => fetch(input, init),
    signingKey: webhookSigningKeyOf(secrets),
    previousSigningKey: secrets.webhookSigningPrevious,
    assetUrlSecret: secrets.assetUrl,
    environment: config.ENVIRONMENT,
    log: (entry) => console.log(JSON.stringify({ time: new Date().toISOString(), ...entry })),
    waitUntil: (work) => scope().background.add(work),
    retries: "external",
  });
  const { app, services } = createEdge({
    db: requestDb,
    assets: new R2ObjectStore(env.ASSETS),
    responseCache: caches.default,
    regions: config.REGIONS,
    secrets,
    environment: config.ENVIRONMENT,
    limiter: new DurableObjectAccountLimiter(env.ACCOUNT_LIMITER),
    waitUntil: (work) => scope().background.add(work),
    webhooks,
    ...(config.PUBLIC_URL && { publicUrl: config.PUBLIC_URL }),
  });
  return (isolate = { app, services, config, webhooks });
}

// The Durable Object class behind ACCOUNT_LIMITER (wrangler.toml).
export { AccountLimiterObject as AccountLimiter } from "../limits/account-limiter-object.ts";

export default {
  async fetch(request, env, ctx) {
    const { app, config } = isolateFor(env);
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

  // Cron trigger (wrangler.toml [triggers]): webhook attempts that are due, and the lease sweep
  // (jobs whose region was lost go elsewhere), from the database.
  async scheduled(_controller, env, ctx) {
    const { config, services, webhooks } = isolateFor(env);
    const handle = createNeonDatabase({
      url: config.DATABASE_URL,
      webSocketProxy: config.NEON_WS_PROXY,
    });
    const current: RequestScope = { db: handle.db, background: new BackgroundTasks() };
    // Isolates come and go while the edge stays up: silence is judged at once (judgeSilenceFrom 0).
    const sweep = () =>
      sweepLeases({ callbackBase: config.PUBLIC_URL, judgeSilenceFrom: 0 }, sweepDeps(services));
    ctx.waitUntil(
      requestScope
        .run(current, () => Promise.all([webhooks.deliverDue(), sweep()]))
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
