import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { JobEvent } from "../../contracts/region-protocol.ts";

// Where the benchmark's nodes post job events: a plain HTTP server on 127.0.0.1 that resolves the
// waiter of each job at its terminal event. It does not verify signatures: that is the edge's cost,
// and on a shared 2-core machine every cycle it spent would be charged to the node under test.

export type TerminalEvent = Extract<JobEvent, { type: "succeeded" | "failed" | "blocked" }>;

export interface CallbackReceiver {
  url: string;
  /** Resolves at the job's terminal event, with when it arrived (performance.now()). */
  wait(jobId: string): Promise<{ event: TerminalEvent; at: number }>;
  close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const waiters = new Map<string, (arrived: { event: TerminalEvent; at: number }) => void>();
  const early = new Map<string, { event: TerminalEvent; at: number }>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      res.writeHead(204).end();
      const event = JSON.parse(Buffer.concat(chunks).toString("utf8")) as JobEvent;
      if (event.type === "running") return;
      const arrived = { event, at: performance.now() };
      const waiter = waiters.get(event.job_id);
      waiters.delete(event.job_id);
      if (waiter) waiter(arrived);
      else early.set(event.job_id, arrived);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    wait(jobId) {
      const arrived = early.get(jobId);
      if (arrived) {
        early.delete(jobId);
        return Promise.resolve(arrived);
      }
      return new Promise((resolve) => waiters.set(jobId, resolve));
    },
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
