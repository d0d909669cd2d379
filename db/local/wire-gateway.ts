import { once } from "node:events";
import { connect } from "node:net";
import type { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { createWebSocketStream, WebSocketServer } from "ws";

export type WireGateway = {
  /** For node-postgres: `createDatabase(gateway.postgresUrl)`. */
  postgresUrl: string;
  /** For the Neon driver (e.g. a Worker under `wrangler dev`): `createNeonDatabase(gateway.neon)`. */
  neon: { url: string; webSocketProxy: string };
  close(): Promise<void>;
};

/**
 * Serves one PGlite over the Postgres wire protocol (TCP) and over a WebSocket-to-TCP bridge that
 * speaks like Neon's proxy, so the node-postgres and Neon drivers can run against the embedded
 * database on one machine. Loopback only. While it serves, use the PGlite only through it: a
 * wire client's open transaction is not isolated from direct in-process queries.
 */
export async function startWireGateway(
  pglite: PGlite,
  { maxConnections = 16 }: { maxConnections?: number } = {},
): Promise<WireGateway> {
  const wire = new PGLiteSocketServer({ db: pglite, host: "127.0.0.1", port: 0, maxConnections });
  await wire.start();
  const wirePort = Number(wire.getServerConn().split(":").at(-1));

  const bridge = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  // The Neon driver names its target in the path (/v1?address=host:port); this bridge only ever
  // forwards to the local wire server, whatever it asks for.
  bridge.on("connection", (socket) => {
    const upstream = connect(wirePort, "127.0.0.1");
    const downstream = createWebSocketStream(socket);
    const closeBoth = () => {
      upstream.destroy();
      downstream.destroy();
    };
    upstream.on("error", closeBoth).on("close", closeBoth);
    downstream.on("error", closeBoth).on("close", closeBoth);
    downstream.pipe(upstream).pipe(downstream);
  });
  await once(bridge, "listening");
  const address = bridge.address();
  if (address === null || typeof address !== "object")
    throw new Error("WebSocket bridge did not bind a TCP port");
  const bridgePort = address.port;

  const url = `postgresql://postgres:postgres@127.0.0.1:${wirePort}/postgres`;
  return {
    postgresUrl: url,
    neon: { url, webSocketProxy: `127.0.0.1:${bridgePort}/v1` },
    async close() {
      for (const client of bridge.clients) client.terminate();
      await new Promise<void>((resolve, reject) =>
        bridge.close((error) => (error ? reject(error) : resolve())),
      );
      await wire.stop();
    },
  };
}
