import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { settleWithin } from "../../contracts/settle-within.ts";
import { MemoryResponseCache } from "../assets/memory-response-cache.ts";
import { readNodeEdgeEnv } from "./node-config.ts";
import {
  httpUrlOf,
  startServerEdge,
  type EdgeHandler,
  type EdgeServer,
  type RunningEdge,
  type StartEdgeOptions,
} from "./server-shared.ts";

export type { RunningEdge, StartEdgeOptions } from "./server-shared.ts";

export interface NodeEdgeOptions extends StartEdgeOptions {
  /** The in-memory response cache of public assets; default EDGE_RESPONSE_CACHE_BYTES; 0: none. */
  responseCacheBytes?: number;
}

/** Serves the edge app on Node (@hono/node-server) with the Node dependencies. */
export async function startEdge(opts: NodeEdgeOptions = {}): Promise<RunningEdge> {
  const cacheBytes =
    opts.responseCacheBytes ?? readNodeEdgeEnv(opts.env ?? process.env).EDGE_RESPONSE_CACHE_BYTES;
  const responseCache =
    cacheBytes > 0 ? new MemoryResponseCache({ maxBytes: cacheBytes }) : undefined;
  return startServerEdge(opts, {
    env: process.env,
    listen,
    responseCache,
    // @hono/node-server passes the IncomingMessage as the app's env.
    clientAddress: (c) =>
      (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
        ?.socket?.remoteAddress,
  });
}

async function listen(handler: EdgeHandler, port: number, hostname: string): Promise<EdgeServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: handler.fetch, port, hostname }) as Server;
    s.once("listening", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return {
    url: httpUrlOf(address, bound),
    async stop(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (!(await settleWithin(closed, graceMs)).settled) server.closeAllConnections();
      await closed;
    },
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
