import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { Database } from "../../db/client/types.ts";
import { STYLE_SHARD_SLOTS, styleIndex } from "../../db/schema/style-index.ts";
import {
  checkEntries,
  checkQuery,
  type StyleEntry,
  type StyleHit,
  type StyleIndex,
  type StyleQuery,
} from "./style-index.ts";

// One shard of the style index in Postgres with pgvector: the rows of `style_index` whose `shard`
// is this one, searched through that shard's own HNSW graph (a partial index; the shard number is
// written into the SQL so the planner can match it). Filtered queries use iterative index scans
// (pgvector >= 0.8), so a filter that rejects most neighbours still fills the page; a small
// tenant's own outputs are read exactly through (shard, account_id) when the planner finds that
// cheaper.

export interface PgStyleIndexOptions {
  db: Database;
  /** 0..STYLE_SHARD_SLOTS-1 (default 0: the whole index in one shard). */
  shard?: number;
  /** hnsw.ef_search: candidates kept while walking the graph (recall vs latency). */
  efSearch?: number;
  /** hnsw.max_scan_tuples: how far an iterative scan may go looking for filtered matches. */
  maxScanTuples?: number;
  /** Further settings for each query's transaction (e.g. planner switches while tuning). */
  settings?: Record<string, string>;
}

const WRITE_BATCH = 500;

export class PgStyleIndex implements StyleIndex {
  private readonly db: Database;
  readonly shard: number;
  private readonly settings: Record<string, string>;

  constructor(opts: PgStyleIndexOptions) {
    const shard = opts.shard ?? 0;
    if (!Number.isInteger(shard) || shard < 0 || shard >= STYLE_SHARD_SLOTS) {
      throw new RangeError(`shard must be 0..${STYLE_SHARD_SLOTS - 1}`);
    }
    this.db = opts.db;
    this.shard = shard;
    this.settings = {
      // relaxed_order may return neighbours slightly out of order: the query re-sorts them.
      "hnsw.iterative_scan": "relaxed_order",
      "hnsw.ef_search": String(opts.efSearch ?? 200),
      "hnsw.max_scan_tuples": String(opts.maxScanTuples ?? 20_000),
      ...opts.settings,
    };
    for (const name of Object.keys(this.settings)) {
      if (!/^[a-z_][a-z0-9_.]*$/.test(name)) throw new RangeError(`not a setting name: ${name}`);
    }
  }

  async upsert(entries: readonly StyleEntry[]): Promise<void> {
    checkEntries(entries);
    for (let i = 0; i < entries.length; i += WRITE_BATCH) {
      const rows = entries.slice(i, i + WRITE_BATCH).map((e) => ({
        id: e.id,
        shard: this.shard,
        accountId: e.accountId,
        projectId: e.projectId,
        model: e.model,
        modelVersion: e.modelVersion,
        visibility: e.visibility,
        hidden: e.hidden,
        generatedAt: new Date(e.generatedAt),
        embedding: [...e.embedding],
      }));
      await this.db
        .insert(styleIndex)
        .values(rows)
        .onConflictDoUpdate({
          target: styleIndex.id,
          set: {
            shard: sql`excluded.shard`,
            accountId: sql`excluded.account_id`,
            projectId: sql`excluded.project_id`,
            model: sql`excluded.model`,
            modelVersion: sql`excluded.model_version`,
            visibility: sql`excluded.visibility`,
            hidden: sql`excluded.hidden`,
            generatedAt: sql`excluded.generated_at`,
            embedding: sql`excluded.embedding`,
          },
        });
    }
  }

  async remove(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += WRITE_BATCH) {
      await this.db
        .delete(styleIndex)
        .where(and(this.inShard(), inArray(styleIndex.id, ids.slice(i, i + WRITE_BATCH))));
    }
  }

  async query(query: StyleQuery): Promise<StyleHit[]> {
    checkQuery(query);
    const vector = sql`${JSON.stringify(query.embedding.map(Number))}::vector`;
    const distance = sql`(${styleIndex.embedding} <=> ${vector})`;
    const where = and(this.inShard(), ...this.conditions(query, distance));
    const settings = { ...this.settings };
    settings["hnsw.ef_search"] = String(Math.max(Number(settings["hnsw.ef_search"]), query.limit));
    const apply = sql.join(
      Object.entries(settings).map(([name, value]) => sql`set_config(${name}, ${value}, true)`),
      sql`, `,
    );
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select ${apply}`);
      const result = await tx.execute<{ id: string; distance: number }>(sql`
        with nearest as materialized (
          select ${styleIndex.id} as id, ${distance} as distance
          from ${styleIndex}
          where ${where}
          order by ${distance}
          limit ${query.limit}
        )
        select id, distance from nearest order by distance, id`);
      return rowsOf<{ id: string; distance: number }>(result).map((r) => ({
        id: r.id,
        distance: Number(r.distance),
      }));
    });
  }

  /** `shard = <n>` as a literal, which the planner needs to use the shard's partial index. */
  private inShard(): SQL {
    return sql`${styleIndex.shard} = ${sql.raw(String(this.shard))}`;
  }

  private conditions(query: StyleQuery, distance: SQL): SQL[] {
    const f = query.filters ?? {};
    const out: SQL[] = [
      eq(styleIndex.hidden, false),
      sql`(${styleIndex.accountId} = ${query.viewer.accountId} or ${styleIndex.visibility} = 'public')`,
    ];
    if (f.projectId !== undefined) out.push(eq(styleIndex.projectId, f.projectId));
    if (f.model !== undefined) out.push(eq(styleIndex.model, f.model));
    if (f.modelVersion !== undefined) out.push(eq(styleIndex.modelVersion, f.modelVersion));
    if (f.from !== undefined) out.push(sql`${styleIndex.generatedAt} >= ${new Date(f.from)}`);
    if (f.to !== undefined) out.push(sql`${styleIndex.generatedAt} < ${new Date(f.to)}`);
    if (f.excludeId !== undefined) out.push(sql`${styleIndex.id} <> ${f.excludeId}`);
    if (query.after) {
      const { distance: d, id } = query.after;
      out.push(sql`(${distance} > ${d} or (${distance} = ${d} and ${styleIndex.id} > ${id}))`);
    }
    return out;
  }
}

/** Rows of `execute` on any driver (PGlite and node-postgres answer { rows }, Neon too). */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}
