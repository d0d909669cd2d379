import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join, normalize, sep } from "node:path";

// A real HTTP model store on 127.0.0.1 serving a MODEL_DIR-shaped folder under /models/, for tests
// and for timing the store tier over loopback. `mode` stands in for a store's bad days: "stall"
// accepts requests and never answers, "fail" answers 503.

export interface ModelHttpServer {
  /** Base URL for MODEL_STORE_URL, e.g. http://127.0.0.1:41234/models/ */
  url: string;
  /** Keys requested (`<name>/<version>/<file>`), in order. */
  requests: string[];
  mode: "serve" | "stall" | "fail";
  close(): Promise<void>;
}

const PREFIX = "/models/";

async function sendFile(res: ServerResponse, root: string, key: string): Promise<void> {
  const path = normalize(join(root, key));
  if (!path.startsWith(root + sep)) {
    res.writeHead(400).end();
    return;
  }
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": String(info.size),
  });
  createReadStream(path).pipe(res);
}

export async function startModelHttpServer(modelsDir: string): Promise<ModelHttpServer> {
  const root = normalize(modelsDir);
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (req.method !== "GET" || !path.startsWith(PREFIX)) {
      res.writeHead(404).end();
      return;
    }
    const key = path.slice(PREFIX.length);
    handle.requests.push(key);
    if (handle.mode === "stall") return;
    if (handle.mode === "fail") {
      res.writeHead(503).end();
      return;
    }
    sendFile(res, root, key).catch(() => res.destroy());
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  const handle: ModelHttpServer = {
    url: `http://127.0.0.1:${port}${PREFIX}`,
    requests: [],
    mode: "serve",
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
      }),
  };
  return handle;
}
