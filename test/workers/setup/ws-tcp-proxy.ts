import { createConnection } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

// A WebSocket -> TCP proxy in the shape of Neon's wsproxy (`ws://host:port/v1?address=db:5432`), so the
// Neon serverless driver inside workerd can reach a local Postgres wire server. Loopback targets only.

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export interface WsTcpProxy {
  /** Value for `neonConfig.wsProxy`'s prefix: `127.0.0.1:<port>/v1`. */
  readonly address: string;
  /** Connections opened so far (lets tests prove traffic went through the proxy). */
  readonly connections: () => number;
  close(): Promise<void>;
}

function targetOf(url: string | undefined): { host: string; port: number } | null {
  const address = new URL(url ?? "/", "http://proxy").searchParams.get("address") ?? "";
  const m = /^(.+):(\d{1,5})$/.exec(address);
  if (!m || !LOOPBACK.has(m[1]!)) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

function pipe(ws: WebSocket, host: string, port: number): void {
  const socket = createConnection({ host, port });
  socket.on("data", (chunk) => ws.send(chunk));
  socket.on("close", () => ws.close());
  socket.on("error", () => ws.close(1011, "upstream error"));
  ws.on("message", (data: Buffer) => socket.write(data));
  ws.on("close", () => socket.end());
  ws.on("error", () => socket.destroy());
}

export async function startWsTcpProxy(): Promise<WsTcpProxy> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/v1" });
  let count = 0;
  server.on("connection", (ws, req) => {
    const target = targetOf(req.url);
    if (!target) return ws.close(1008, "address must be a loopback host:port");
    count++;
    pipe(ws, target.host, target.port);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}/v1`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
