import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { throughput, type Target } from "./measure.ts";

// Cached asset GETs through the edge (a public project's output on its signed URL: the response
// cache's path) against a bare @hono/node-server handler serving the same bytes and headers from
// memory, and for reference a private output (signed URL, never in a shared cache). They alternate
// in slices so drift hits all three alike.

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

export interface ServedAsset {
  /** Path and query of its signed URL on the edge. */
  path: string;
  bytes: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
}

export async function assetThroughput(
  edgeUrl: string,
  assets: { public: ServedAsset; private: ServedAsset },
  opts: { concurrency: number; durationMs: number; rounds: number },
) {
  const bare = new Hono();
  bare.get("/asset", (c) => c.body(assets.public.bytes, 200, assets.public.headers));
  const server = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((r) => server.once("listening", r));
  const bareUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const get = (origin: string, path: string): Target => ({
    origin,
    expectStatus: 200,
    next: async () => ({ method: "GET", path, headers: {} }),
  });
  const targets = {
    bare: get(bareUrl, "/asset"),
    public: get(edgeUrl, assets.public.path),
    private: get(edgeUrl, assets.private.path),
  };
  const sums = {
    bare: { rps: 0, cpu: 0 },
    public: { rps: 0, cpu: 0 },
    private: { rps: 0, cpu: 0 },
  };
  try {
    for (let r = 0; r < opts.rounds; r++) {
      for (const name of ["bare", "public", "private"] as const) {
        const run = await throughput(
          targets[name],
          opts.concurrency,
          opts.durationMs / opts.rounds,
        );
        sums[name].rps += run.rps / opts.rounds;
        sums[name].cpu += run.cpuUsPerRequest / opts.rounds;
      }
    }
  } finally {
    server.close();
  }
  return {
    bare_rps: round(sums.bare.rps, 0),
    edge_public_rps: round(sums.public.rps, 0),
    edge_private_signed_rps: round(sums.private.rps, 0),
    cpu_us_per_request: {
      bare: round(sums.bare.cpu, 0),
      edge_public: round(sums.public.cpu, 0),
      edge_private_signed: round(sums.private.cpu, 0),
    },
    bytes: assets.public.bytes.byteLength,
    edge_over_bare: round(sums.public.rps / sums.bare.rps),
    private_over_bare: round(sums.private.rps / sums.bare.rps),
    // Requests/s the CPU allows, edge over bare: the ratio without other processes' noise.
    edge_over_bare_by_cpu: round(sums.bare.cpu / sums.public.cpu),
  };
}
