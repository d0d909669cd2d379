import { settleWithin } from "../../contracts/settle-within.ts";
import { sharedCacheSeconds } from "../assets/shared-cache-lifetime.ts";
import type { Log } from "../lib/log.ts";
import type { ResponseCache } from "../assets/response-cache.ts";
import {
  httpUrlOf,
  jsonLog,
  startServerEdge,
  type EdgeHandler,
  type EdgeServer,
  type RunningEdge,
  type StartEdgeOptions,
} from "./server-shared.ts";

// Deno entry: `npm run start:deno`. Deno resolves the bare imports from package.json and
// node_modules (nodeModulesDir "manual" is its default beside a package.json), so the app, the
// database drivers and FsObjectStore run as they do on Node. Configured from the environment like
// the Node entry (node-config.ts).

/** The few Deno APIs used here (tsc runs with Node's types; Deno checks nothing at `deno run`). */
interface DenoHttpServer {
  readonly addr: { hostname: string; port: number };
  /** Stops accepting; resolves when in-flight requests have finished. */
  shutdown(): Promise<void>;
}
type DenoSignal = "SIGINT" | "SIGTERM";
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: unknown) => void },
    handler: (request: Request, info?: unknown) => Response | Promise<Response>,
  ): DenoHttpServer;
  env: { toObject(): Record<string, string> };
  addSignalListener(signal: DenoSignal, handler: () => void): void;
  removeSignalListener(signal: DenoSignal, handler: () => void): void;
  exit(code: number): never;
};

export type { RunningEdge, StartEdgeOptions } from "./server-shared.ts";

/** Serves the edge app with Deno.serve; assets go through Deno's Cache API when it opens. */
export async function startDenoEdge(opts: StartEdgeOptions = {}): Promise<RunningEdge> {
  const log = opts.log ?? jsonLog;
  return startServerEdge(
    { ...opts, log },
    {
      env: Deno.env.toObject(),
      listen,
      responseCache: await openResponseCache(log),
      clientAddress: (c) =>
        (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr?.hostname,
    },
  );
}

async function listen(handler: EdgeHandler, port: number, hostname: string): Promise<EdgeServer> {
  // Throws (AddrInUse, ...) when it cannot bind; onListen replaces Deno's own "Listening on" line.
  const server = Deno.serve({ port, hostname, onListen: () => {} }, (req, info) =>
    handler.fetch(req, { remoteAddr: (info as { remoteAddr?: unknown } | undefined)?.remoteAddr }),
  );
  return {
    url: httpUrlOf(server.addr.hostname, server.addr.port),
    async stop(graceMs) {
      // Deno.serve cannot cut connections off: past the grace, shutdown goes on while the entry
      // closes the rest and exits.
      await settleWithin(server.shutdown(), graceMs);
    },
  };
}

const CACHE_NAME = "edge-assets";
const EXPIRES_HEADER = "x-edge-cache-expires";

async function openResponseCache(log: Log): Promise<ResponseCache | undefined> {
  try {
    return expiringCache(await caches.open(CACHE_NAME));
  } catch (err) {
    log({
      level: "warn",
      msg: "Cache API unavailable: assets are served from the asset store only",
      error: err instanceof Error ? err.message : String(err),
    });
    return undefined;
  }
}

/**
 * Deno's Cache API keeps a response until it is deleted; the Workers cache honours its
 * Cache-Control. This gives Deno's the same lifetime: (s-)max-age, and nothing `no-store` or `private`.
 */
export function expiringCache(cache: Cache, now: () => number = Date.now): ResponseCache {
  return {
    async match(request) {
      const hit = await cache.match(request);
      if (!hit) return undefined;
      if (Number(hit.headers.get(EXPIRES_HEADER)) > now()) return hit;
      await hit.body?.cancel();
      await cache.delete(request);
      return undefined;
    },
    async put(request, response) {
      const seconds = sharedCacheSeconds(request.method, response);
      if (seconds === null) {
        await response.body?.cancel();
        return;
      }
      const headers = new Headers(response.headers);
      headers.set(EXPIRES_HEADER, String(now() + seconds * 1000));
      await cache.put(request, new Response(response.body, { status: response.status, headers }));
    },
    delete: (request) => cache.delete(request),
  };
}

async function main(): Promise<void> {
  let edge: RunningEdge;
  try {
    edge = await startDenoEdge();
  } catch (err) {
    console.error(`edge: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
  const signals: DenoSignal[] = ["SIGINT", "SIGTERM"];
  const stop = () => {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
    void edge.close().then(() => Deno.exit(0));
  };
  for (const signal of signals) Deno.addSignalListener(signal, stop);
}

if (import.meta.main) await main();
