import type { PGlite, Transaction } from "@electric-sql/pglite";
import { request, Pool } from "undici";

// Client side of bench-edge: sequential latency samples and a closed-loop throughput run, over a
// keep-alive pool so both targets pay the same client cost.

export interface Target {
  origin: string;
  /** Builds one request (fresh ids, signatures) each time. */
  next(): Promise<{
    method: "GET" | "POST";
    path: string;
    headers: Record<string, string>;
    body?: string;
  }>;
  expectStatus: number;
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function once(pool: Pool, t: Target): Promise<void> {
  const r = await t.next();
  const res = await pool.request({
    method: r.method,
    path: r.path,
    headers: r.headers,
    body: r.body,
  });
  await res.body.arrayBuffer();
  if (res.statusCode !== t.expectStatus) {
    throw new Error(`${t.origin}${r.path}: ${res.statusCode}, expected ${t.expectStatus}`);
  }
}

/** Alternates the targets request by request so drift (GC, other load) hits both alike. */
export async function pairedLatency(targets: Target[], samples: number, warmup: number) {
  const pools = targets.map((t) => new Pool(t.origin, { connections: 1 }));
  const times = targets.map(() => [] as number[]);
  for (let i = 0; i < warmup + samples; i++) {
    for (let k = 0; k < targets.length; k++) {
      const started = performance.now();
      await once(pools[k]!, targets[k]!);
      if (i >= warmup) times[k]!.push(performance.now() - started);
    }
  }
  await Promise.all(pools.map((p) => p.close()));
  return times.map((t) => t.sort((a, b) => a - b));
}

export interface Throughput {
  rps: number;
  /**
   * CPU time of this process (client and server alike, all threads) per request: steadier than
   * requests/s when other work shares the cores.
   */
  cpuUsPerRequest: number;
}

/** Requests per second with `concurrency` requests always outstanding for `durationMs`. */
export async function throughput(
  t: Target,
  concurrency: number,
  durationMs: number,
): Promise<Throughput> {
  const pool = new Pool(t.origin, { connections: concurrency });
  const until = performance.now() + durationMs;
  let done = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await once(pool, t);
        done += 1;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  const rps = done / ((performance.now() - started) / 1000);
  await pool.close();
  return { rps, cpuUsPerRequest: (used.user + used.system) / done };
}

export { request };

/** What a database client was asked to do: statements (inside transactions too) and wall time. */
export interface QueryMeter {
  readonly statements: number;
  readonly ms: number;
}

type AsyncFn = (...args: never[]) => Promise<unknown>;

/**
 * Counts the statements a PGlite client runs and the wall time they hold it (PGlite runs one at a
 * time, so that time is what every other request waits behind). Measurement only: the calls pass
 * through unchanged.
 */
export function meterPglite(client: PGlite): QueryMeter {
  const meter = { statements: 0, ms: 0 };
  const wrap = <F extends AsyncFn>(fn: F, opts: { count: boolean; time: boolean }): F =>
    (async (...args: Parameters<F>) => {
      if (opts.count) meter.statements += 1;
      const started = performance.now();
      try {
        return await fn(...args);
      } finally {
        if (opts.time) meter.ms += performance.now() - started;
      }
    }) as F;
  const both = { count: true, time: true };
  client.query = wrap(client.query.bind(client), both);
  client.exec = wrap(client.exec.bind(client), both);
  const transaction = client.transaction.bind(client);
  // Statements inside a transaction are counted; its wall time, BEGIN to COMMIT, is timed once.
  client.transaction = wrap(
    (fn: (tx: Transaction) => Promise<unknown>) =>
      transaction((tx) => {
        tx.query = wrap(tx.query.bind(tx), { count: true, time: false });
        tx.exec = wrap(tx.exec.bind(tx), { count: true, time: false });
        return fn(tx);
      }),
    { count: false, time: true },
  ) as PGlite["transaction"];
  return meter;
}
