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

/** Requests per second with `concurrency` requests always outstanding for `durationMs`. */
export async function throughput(t: Target, concurrency: number, durationMs: number) {
  const pool = new Pool(t.origin, { connections: concurrency });
  const until = performance.now() + durationMs;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await once(pool, t);
        done += 1;
      }
    }),
  );
  const rps = done / ((performance.now() - started) / 1000);
  await pool.close();
  return rps;
}

export { request };
