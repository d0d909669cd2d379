import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A real HTTP server on 127.0.0.1 receiving webhooks in tests: it records each request and answers
// with the next planned status (then `fallback`), or holds the answer until released.

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface WebhookReceiver {
  url(path?: string): string;
  received: ReceivedWebhook[];
  /** Statuses for the next requests, in order; afterwards `fallback` (default 200). */
  plan: number[];
  fallback: number;
  /** While set, requests wait until `release()`. */
  hold: boolean;
  release(): void;
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const held: (() => void)[] = [];
  const receiver: WebhookReceiver = {
    url: (path = "/hook") => `http://127.0.0.1:${port}${path}`,
    received: [],
    plan: [],
    fallback: 200,
    hold: false,
    release() {
      receiver.hold = false;
      for (const answer of held.splice(0)) answer();
    },
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.received.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} webhooks, got ${receiver.received.length}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return receiver.received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        receiver.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = receiver.plan.shift() ?? receiver.fallback;
      receiver.received.push({
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        status,
      });
      const answer = () => res.writeHead(status, { "content-type": "text/plain" }).end("ok");
      if (receiver.hold) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return receiver;
}
