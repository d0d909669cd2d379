import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";
import type { PGlite } from "@electric-sql/pglite";
import { createWebSocketStream, WebSocketServer } from "ws";
import { serveSqlOverHttp } from "./sql-over-http.ts";
import { PgliteWireSession } from "./wire-session.ts";

export type WireGateway = {
  /** For node-postgres: `createDatabase(gateway.postgresUrl)`. */
  postgresUrl: string;
  /**
   * For the Neon driver (e.g. a Worker under `wrangler dev`): `createNeonDatabase(gateway.neon)`.
   * The proxy's host serves Neon's WebSocket at `/v1` and its SQL-over-HTTP at `/sql`.
   */
  neon: { url: string; webSocketProxy: string };
  close(): Promise<void>;
};

export interface WireGatewayOptions {
  /** Concurrent client connections, TCP and WebSocket together (default 16). */
  maxConnections?: number;
  /**
   * How long one client may keep the others waiting while it holds the session mid-query or in an
   * open transaction without sending anything (default 30 s); it is then disconnected.
   */
  holdTimeoutMs?: number;
  /** Fixed ports (default 0: any free port). */
  port?: number;
  webSocketPort?: number;
}

/**
 * Serves one PGlite over the Postgres wire protocol (TCP) and over a WebSocket-to-Postgres bridge
 * that speaks like Neon's proxy, so the node-postgres and Neon drivers can run against the embedded
 * database on one machine. Loopback only. Clients take turns on PGlite's single session, one unit
 * of work or transaction at a time (wire-session.ts). While it serves, use the PGlite only through
 * it: in-process queries are not kept out of a wire client's open transaction.
 */
export async function startWireGateway(
  pglite: PGlite,
  opts: WireGatewayOptions = {},
): Promise<WireGateway> {
  const session = new PgliteWireSession(pglite, {
    maxConnections: opts.maxConnections ?? 16,
    holdTimeoutMs: opts.holdTimeoutMs ?? 30_000,
  });
  await pglite.waitReady;

  const wire = createServer((socket) => {
    socket.setNoDelay(true);
    session.attach(socket);
  });
  wire.listen(opts.port ?? 0, "127.0.0.1");
  await once(wire, "listening");
  const wirePort = (wire.address() as AddressInfo).port;

  // The Neon driver names its target in the path (/v1?address=host:port); this bridge only ever
  // serves the local PGlite, whatever it asks for. Its one-shot queries come as HTTP on the same
  // port, as Neon's own proxy serves both.
  const http = createHttpServer((req, res) => {
    serveSqlOverHttp(pglite, session, req, res).catch(() => res.destroy());
  });
  const bridge = new WebSocketServer({ server: http });
  bridge.on("connection", (socket) => session.attach(createWebSocketStream(socket)));
  http.listen(opts.webSocketPort ?? 0, "127.0.0.1");
  await once(http, "listening");
  const bridgePort = (http.address() as AddressInfo).port;

  const url = `postgresql://postgres:postgres@127.0.0.1:${wirePort}/postgres`;
  return {
    postgresUrl: url,
    neon: { url, webSocketProxy: `127.0.0.1:${bridgePort}/v1` },
    async close() {
      const closed = Promise.all([
        closeServer(wire),
        new Promise<void>((resolve, reject) =>
          bridge.close((error) => (error ? reject(error) : resolve())),
        ),
        new Promise<void>((resolve) => http.close(() => resolve())),
      ]);
      // Ends every connection and waits until none is running a query on the PGlite.
      await session.close();
      for (const client of bridge.clients) client.terminate();
      http.closeAllConnections();
      await closed;
    },
  };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
