import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Heartbeat, JobEvent } from "../../contracts/region-protocol.ts";
import { verifyRequest } from "../../contracts/signing.ts";
import { TEST_KEY_ID } from "./signed-client.ts";

// A real HTTP server on 127.0.0.1 standing in for the edge's region endpoints: it verifies each
// request's signature, records what it received, and answers with the status `respond` picks.

export interface Received {
  path: string;
  body: string;
  signatureOk: boolean;
  requestId: string | undefined;
}

export interface EdgeStub {
  url: string;
  /** Every request, whatever it was answered. */
  attempts: Received[];
  /** Requests answered 2xx: what the edge took in. */
  received: Received[];
  events(): JobEvent[];
  heartbeats(): Heartbeat[];
  /** Status for a signed request; `index` counts all attempts (default 204). */
  respond: (req: Received, index: number) => number;
  waitFor<T>(probe: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

export async function startEdgeStub(secret: string): Promise<EdgeStub> {
  const stub: EdgeStub = {
    url: "",
    attempts: [],
    received: [],
    respond: () => 204,
    events: () =>
      stub.received
        .filter((r) => r.signatureOk && r.path.endsWith("/events"))
        .map((r) => JobEvent.parse(JSON.parse(r.body))),
    heartbeats: () =>
      stub.received
        .filter((r) => r.signatureOk && r.path.endsWith("/heartbeat"))
        .map((r) => Heartbeat.parse(JSON.parse(r.body))),
    async waitFor(probe, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = probe();
        if (value !== undefined && value !== false) return value as never;
        if (Date.now() > deadline) throw new Error("edge stub: condition not met in time");
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === "string") headers.set(k, v);
      const path = req.url ?? "/";
      const verdict = await verifyRequest(
        (id) => (id === TEST_KEY_ID ? secret : null),
        { method: req.method ?? "", path, body },
        headers,
      );
      const received: Received = {
        path,
        body,
        signatureOk: verdict.ok,
        requestId: headers.get("x-request-id") ?? undefined,
      };
      const index = stub.attempts.length;
      stub.attempts.push(received);
      const status = verdict.ok ? stub.respond(received, index) : 401;
      // Only what was accepted counts as delivered.
      if (status < 300) stub.received.push(received);
      res.writeHead(status).end();
    })();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.keepAliveTimeout = 100;
  return stub;
}
