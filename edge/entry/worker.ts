import { AsyncLocalStorage } from "node:async_hooks";
import { z } from "zod";
import { createNeonDatabase } from "../../db/client/neon.ts";
import type { Database } from "../../db/client/types.ts";
import { R2ObjectStore } from "../../storage/r2.ts";
import { createApp } from "../app.ts";
import { NodeEdgeEnv } from "./node-config.ts";

// Cloudflare Workers entry. The app and its in-isolate state (key cache, region directory, waiters)
// are built once per isolate from `env`; the database is opened per request and closed after the
// request's background work, because a Neon WebSocket belongs to the request that opened it.

type WorkerEnv = Env & {
  /** Development only: `host:port/path` of a local WebSocket-to-Postgres proxy (see wrangler.toml). */
  NEON_WS_PROXY?: string;
};

const WorkerConfig = NodeEdgeEnv.pick({
  REGIONS: true,
  ENVIRONMENT: true,
  REGION_SIGNING_SECRET: true,
  ASSET_URL_SECRET: true,
  API_KEY_PEPPER: true,
}).required({ REGIONS: true, REGION_SIGNING_SECRET: true, ASSET_URL_SECRET: true });

type RequestScope = { db: Database; background: Promise<unknown>[] };
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

let app: ReturnType<typeof createApp> | undefined;
function appFor(env: WorkerEnv): ReturnType<typeof createApp> {
  if (app) return app;
  const parsed = WorkerConfig.safeParse(env);
  if (!parsed.success)
    throw new Error(`invalid Worker configuration\n${z.prettifyError(parsed.error)}`);
  const config = parsed.data;
  return (app = createApp({
    db: requestDb,
    assets: new R2ObjectStore(env.ASSETS),
    responseCache: caches.default,
    regions: config.REGIONS,
    secrets: {
      regionSigning: config.REGION_SIGNING_SECRET,
      assetUrl: config.ASSET_URL_SECRET,
      apiKeyPepper: config.API_KEY_PEPPER,
    },
    environment: config.ENVIRONMENT,
    waitUntil: (work) => void scope().background.push(work),
  }));
}

/** Settles the request's background work, including work queued while settling. */
async function settle(background: Promise<unknown>[]): Promise<void> {
  for (let done = 0; done < background.length;) {
    const batch = background.slice(done);
    await Promise.allSettled(batch);
    done += batch.length;
  }
}

export default {
  async fetch(request, env, ctx) {
    const handle = createNeonDatabase({
      url: env.DATABASE_URL,
      webSocketProxy: env.NEON_WS_PROXY || undefined,
    });
    const current: RequestScope = { db: handle.db, background: [] };
    const response = await requestScope.run(current, () => appFor(env).fetch(request, env, ctx));
    const finish = () => settle(current.background).then(() => handle.close());
    if (!response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
      ctx.waitUntil(finish());
      return response;
    }
    // A stream keeps reading the database after the handler returns: close once it ends.
    const { readable, writable } = new TransformStream();
    ctx.waitUntil(
      response.body
        .pipeTo(writable)
        .catch(() => {})
        .then(finish),
    );
    return new Response(readable, response);
  },
} satisfies ExportedHandler<WorkerEnv>;
