import { Client, neon, neonConfig, Pool, type ClientConfig } from "@neondatabase/serverless";
import { drizzle as drizzleHttp } from "drizzle-orm/neon-http";
import { drizzle } from "drizzle-orm/neon-serverless";
import * as schema from "../schema/index.ts";
import type { NeonConfig } from "./config.ts";
import type { DatabaseHandle } from "./types.ts";

/**
 * Neon serverless, as the Worker uses it: every statement on its own goes over Neon's SQL-over-HTTP
 * endpoint (one HTTPS request, on a connection the runtime keeps warm: one round trip to the
 * database), and only transactions open the WebSocket pool (connection, TLS, upgrade and
 * start-up: four or five round trips before the first statement), when the first one is asked
 * for. This file is the Worker's entry to the database: it imports neither PGlite nor pg. On
 * Workers an open socket belongs to the request that opened it, so build one per request and
 * `close()` it in `ctx.waitUntil`.
 */
export function createNeonDatabase(
  config: Omit<NeonConfig, "kind">,
): Extract<DatabaseHandle, { driver: "neon" }> {
  let pool: Pool | undefined;
  const openPool = () => {
    if (!pool) {
      pool = new Pool({ connectionString: config.url });
      if (config.webSocketProxy !== undefined) pool.Client = viaLocalProxy(config.webSocketProxy);
    }
    return pool;
  };
  const overSocket = () => drizzle({ client: openPool(), schema });
  if (config.webSocketProxy !== undefined) useLocalHttpEndpoint(config.webSocketProxy);
  const overHttp = drizzleHttp({ client: neon(config.url), schema });
  let socketDb: ReturnType<typeof overSocket> | undefined;
  // Statements go over HTTP; a transaction (and what needs a session: `$client`) over the pool.
  const db = new Proxy(overHttp, {
    get(target, prop, receiver) {
      if (prop === "transaction" || prop === "$client") {
        socketDb ??= overSocket();
        const value: unknown = Reflect.get(socketDb, prop, socketDb);
        return typeof value === "function" ? value.bind(socketDb) : value;
      }
      return Reflect.get(target, prop, receiver);
    },
  }) as unknown as ReturnType<typeof overSocket>;
  return { driver: "neon", db, close: async () => pool?.end() };
}

// Per-client settings rather than the global `neonConfig`, so one process can hold pools to Neon
// and to a local proxy at once.
function viaLocalProxy(proxy: string): typeof Client {
  return class LocalProxyClient extends Client {
    constructor(config?: string | ClientConfig) {
      super(config);
      this.neonConfig.wsProxy = proxy;
      this.neonConfig.useSecureWebSocket = false;
      this.neonConfig.pipelineConnect = false;
      this.neonConfig.pipelineTLS = false;
    }
  };
}

/**
 * Local development: HTTP statements go to the local proxy's `/sql` (db/local/wire-gateway.ts
 * serves it beside the WebSocket) instead of `https://<host>/sql`. Unlike the WebSocket's, this
 * setting is global to the process (the driver has no per-client endpoint).
 */
function useLocalHttpEndpoint(proxy: string): void {
  const hostAndPort = proxy.split("/")[0]!;
  neonConfig.fetchEndpoint = `http://${hostAndPort}/sql`;
}
