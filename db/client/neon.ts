import { Client, Pool, type ClientConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import * as schema from "../schema/index.ts";
import type { NeonConfig } from "./config.ts";
import type { DatabaseHandle } from "./types.ts";

/**
 * Neon serverless Pool over WebSocket (transactions work, unlike the HTTP driver). This file is the
 * Worker's entry to the database: it imports neither PGlite nor pg. On Workers an open socket
 * belongs to the request that opened it, so build one per request and `close()` it in
 * `ctx.waitUntil`.
 */
export function createNeonDatabase(
  config: Omit<NeonConfig, "kind">,
): Extract<DatabaseHandle, { driver: "neon" }> {
  const pool = new Pool({ connectionString: config.url });
  if (config.webSocketProxy !== undefined) pool.Client = viaLocalProxy(config.webSocketProxy);
  const db = drizzle({ client: pool, schema });
  return { driver: "neon", db, close: () => pool.end() };
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
