import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { STYLE_EMBEDDING_DIMS } from "../../../contracts/style.ts";
import { createDatabase } from "../../../db/client/index.ts";
import type { PgliteHandle } from "../../../db/client/pglite.ts";
import { migrateDatabase } from "../../../db/migrate.ts";
import { round, summarise } from "../../../regional-gpu/bench/stats.ts";
import { PgStyleIndex } from "../pg-style-index.ts";
import { perturbed, renderBaseSet, seededRandom, type BaseSet } from "./dataset.ts";
import { exactTopK, recall } from "./exact-search.ts";

// npm run bench:search [-- --sizes 100000,1000000 --queries 200 --ef 40,100,200 --build-memory 512MB]
//
// The style index in the embedded default (PGlite + pgvector, one shard's HNSW graph, m=16,
// ef_construction=64) at each size: realistic embeddings (perturbations of real renders'), bulk
// loaded, then the graph built; recall@10 against exact search and p50/p99 latency at several
// ef_search values (the recall/latency curve), without a tenant filter (the plain k-NN) and with
// the viewer rule of every real query (own outputs or public ones: iterative scans on). The
// baseline, in the same run, is the same query answered exactly by a sequential scan.

const ACCOUNTS = 1_000;
const PUBLIC_SHARE = 0.1;
const K = 10;
const BASELINE_QUERIES = 10;
const COPY_CHUNK = 20_000;

const pad = (n: number) => String(n).padStart(26, "0");
const idOf = (row: number) => `gen_${pad(row)}`;
const rowOf = (id: string) => Number(id.slice(4));
const accountOf = (n: number) => `acct_${pad(n)}`;

interface Dataset {
  rows: number;
  vectors: Float32Array;
  account: Int32Array;
  isPublic: Uint8Array;
}

/** `rows` perturbed vectors, owners skewed (a few large tenants, many small), a tenth public. */
function dataset(base: BaseSet, rows: number): Dataset {
  const vectors = new Float32Array(rows * STYLE_EMBEDDING_DIMS);
  const account = new Int32Array(rows);
  const isPublic = new Uint8Array(rows);
  const random = seededRandom(rows);
  for (let r = 0; r < rows; r++) {
    perturbed(base, r, vectors, r * STYLE_EMBEDDING_DIMS);
    account[r] = Math.floor(ACCOUNTS * random() ** 2);
    isPublic[r] = random() < PUBLIC_SHARE ? 1 : 0;
  }
  return { rows, vectors, account, isPublic };
}

const vectorText = (v: Float32Array, offset: number) => {
  const parts: string[] = [];
  for (let i = 0; i < STYLE_EMBEDDING_DIMS; i++) parts.push(v[offset + i]!.toPrecision(7));
  return `[${parts.join(",")}]`;
};

/** COPY the rows in (CSV through PGlite's /dev/blob), then build the shard's HNSW graph. */
async function load(handle: PgliteHandle, data: Dataset, buildMemory: string) {
  const client = handle.db.$client;
  await client.exec(`drop index style_index_shard_0_embedding_idx`);
  const started = performance.now();
  const at = new Date(Date.UTC(2026, 0, 1)).toISOString();
  for (let from = 0; from < data.rows; from += COPY_CHUNK) {
    const lines: string[] = [];
    for (let r = from; r < Math.min(data.rows, from + COPY_CHUNK); r++) {
      const visibility = data.isPublic[r] ? "public" : "private";
      const vector = vectorText(data.vectors, r * STYLE_EMBEDDING_DIMS);
      lines.push(
        `${idOf(r)},0,${accountOf(data.account[r]!)},,cppn-glove,v,${visibility},f,${at},"${vector}"`,
      );
    }
    await client.query(
      `copy style_index (id, shard, account_id, project_id, model, model_version, visibility, hidden, generated_at, embedding) from '/dev/blob' with (format csv)`,
      [],
      { blob: new Blob([lines.join("\n")]) },
    );
  }
  const loadedMs = performance.now() - started;
  const built = performance.now();
  // PGlite is 32-bit WebAssembly (2 GiB of memory in all): the graph gets what fits beside the rest.
  await client.exec(`set maintenance_work_mem = '${buildMemory}'`);
  // The migration's definition of shard 0's graph (pgvector defaults m=16, ef_construction=64).
  await client.exec(
    `create index style_index_shard_0_embedding_idx on style_index using hnsw (embedding vector_cosine_ops) where shard = 0`,
  );
  const buildMs = performance.now() - built;
  await client.exec(`analyze style_index`);
  const size = await client.query<{ table: string; index: string }>(
    `select pg_size_pretty(pg_table_size('style_index')) as table,
            pg_size_pretty(pg_relation_size('style_index_shard_0_embedding_idx')) as index`,
  );
  return { loadedMs, buildMs, ...size.rows[0]! };
}

interface Measured {
  recall: number;
  p50: number;
  p99: number;
}

async function measure(
  queries: Float32Array[],
  truths: number[][],
  run: (q: Float32Array) => Promise<string[]>,
): Promise<Measured> {
  await run(queries[0]!); // warm
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < queries.length; i++) {
    const started = performance.now();
    const ids = await run(queries[i]!);
    times.push(performance.now() - started);
    found += recall(ids.map(rowOf), truths[i]!);
  }
  const s = summarise(times);
  return { recall: found / queries.length, p50: s.p50, p99: s.p99 };
}

/** The plain k-NN of the shard's graph, with the index's per-query settings. */
function knn(handle: PgliteHandle, efSearch: number, exact = false) {
  return (q: Float32Array) =>
    handle.db.transaction(async (tx) => {
      await tx.execute(
        sql`select set_config('hnsw.ef_search', ${String(efSearch)}, true),
                   set_config('enable_indexscan', ${exact ? "off" : "on"}, true)`,
      );
      const result = await tx.execute<{ id: string }>(
        sql`select id from style_index where shard = 0
            order by embedding <=> ${vectorText(q, 0)}::vector limit ${K}`,
      );
      return result.rows.map((r) => r.id);
    });
}

async function benchSize(
  base: BaseSet,
  rows: number,
  queryCount: number,
  efs: number[],
  buildMemory: string,
) {
  const dir = await mkdtemp(join(tmpdir(), "bench-search-"));
  const handle = (await createDatabase({ kind: "pglite", dataDir: dir })) as PgliteHandle;
  try {
    await migrateDatabase(handle);
    const data = dataset(base, rows);
    const build = await load(handle, data, buildMemory);
    const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
    const queries = Array.from({ length: queryCount }, (_, i) => {
      const q = new Float32Array(STYLE_EMBEDDING_DIMS);
      perturbed(base, rows + i, q);
      return q;
    });
    // Viewers: tenants of every size, each query from one of them.
    const viewers = queries.map((_, i) => Math.floor((i * 37) % ACCOUNTS));
    const truthAll = queries.map((q) => exactTopK(data.vectors, rows, q, K));
    const truthViewer = queries.map((q, i) =>
      exactTopK(
        data.vectors,
        rows,
        q,
        K,
        (r) => data.isPublic[r] === 1 || data.account[r] === viewers[i],
      ),
    );
    const baseline = await measure(
      queries.slice(0, BASELINE_QUERIES),
      truthAll.slice(0, BASELINE_QUERIES),
      knn(handle, 40, true),
    );
    const curve = [];
    for (const ef of efs) {
      const plain = await measure(queries, truthAll, knn(handle, ef));
      const index = new PgStyleIndex({ db: handle.db, shard: 0, efSearch: ef });
      let v = 0;
      const viewer = await measure(queries, truthViewer, async (q) => {
        const hits = await index.query({
          embedding: Array.from(q),
          viewer: { accountId: accountOf(viewers[v++ % viewers.length]!) },
          limit: K,
        });
        return hits.map((h) => h.id);
      });
      curve.push({ ef, plain, viewer });
    }
    return { rows, build, rssMb, baseline, curve };
  } finally {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function print(result: Awaited<ReturnType<typeof benchSize>>) {
  const { rows, build, rssMb, baseline } = result;
  console.log(
    `\n${rows.toLocaleString("en")} vectors: COPY ${round(build.loadedMs / 1000)} s, HNSW build ${round(build.buildMs / 1000)} s, table ${build.table}, graph ${build.index}, process RSS ${rssMb} MiB`,
  );
  console.log(
    `  baseline (exact, sequential scan): p50 ${round(baseline.p50)} ms, p99 ${round(baseline.p99)} ms`,
  );
  console.log(
    "  ef_search | no filter: recall@10  p50 ms  p99 ms  speed-up | viewer rule: recall@10  p50 ms  p99 ms",
  );
  for (const { ef, plain, viewer } of result.curve) {
    console.log(
      `  ${String(ef).padStart(9)} | ${round(plain.recall).toFixed(3).padStart(21)} ${String(round(plain.p50)).padStart(7)} ${String(round(plain.p99)).padStart(7)} ${`${round(baseline.p50 / plain.p50)}x`.padStart(9)} | ${round(viewer.recall).toFixed(3).padStart(23)} ${String(round(viewer.p50)).padStart(7)} ${String(round(viewer.p99)).padStart(7)}`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "100000,1000000" },
      queries: { type: "string", default: "200" },
      ef: { type: "string", default: "40,100,200" },
      "build-memory": { type: "string", default: "512MB" },
    },
  });
  const sizes = values.sizes.split(",").map(Number);
  const efs = values.ef.split(",").map(Number);
  console.log(
    `load average at start: ${(await import("node:os"))
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const started = performance.now();
  const base = await renderBaseSet();
  console.log(
    `base set: ${base.count} real renders embedded in ${round((performance.now() - started) / 1000)} s; perturbation sigma ${base.sigma.toPrecision(3)} per dimension`,
  );
  for (const rows of sizes) {
    print(await benchSize(base, rows, Number(values.queries), efs, values["build-memory"]));
    console.log(
      `  load average now: ${(await import("node:os"))
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
