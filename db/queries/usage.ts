import { and, eq, gte, sql, type SQL } from "drizzle-orm";
import type { Database } from "../client/types.ts";
import { generations } from "../schema/generations.ts";
import { usageLedger } from "../schema/usage-ledger.ts";

// Usage read from the ledger: one line per generation first (its rows summed: what it cost, its
// GPU time, whether it closed, was refunded or answered from the cache), then grouped. A
// generation counts in the bucket of its reservation (when it was accepted), so its reserve and
// settle rows never land in different buckets. Tags the ledger does not carry (key, lane, mode,
// model name) come from the generation row.

export const USAGE_GROUPS = ["hour", "day", "model", "project", "region", "key", "lane"] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageQuery {
  accountId: string;
  from: Date;
  to: Date;
  groupBy: UsageGroup | null;
  mode: "live" | "test";
  /** Only this project's generations (of this account). */
  projectId?: string;
}

export interface UsageFigures {
  requests: number;
  succeeded: number;
  refunded: number;
  cached: number;
  inFlight: number;
  gpuMs: number;
  costMicrousd: number;
  reservedMicrousd: number;
  savedMicrousd: number;
  /** Time from acceptance to image of generations that ran (not cached); null without any. */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface UsageRow extends UsageFigures {
  /** The group's key (ISO time of the bucket, model@version, id, ...); null: none (untagged). */
  key: string | null;
}

export interface UsageReport {
  totals: UsageFigures;
  groups: UsageRow[];
}

function groupKey(groupBy: UsageGroup, g: Record<string, SQL>): SQL {
  switch (groupBy) {
    case "hour":
      return sql`to_char(date_trunc('hour', ${g.at} at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')`;
    case "day":
      return sql`to_char(date_trunc('day', ${g.at} at time zone 'UTC'), 'YYYY-MM-DD')`;
    case "model":
      return sql`${generations.model} || '@' || ${generations.modelVersion}`;
    case "project":
      return g.projectId!;
    case "region":
      return g.region!;
    case "key":
      return sql`${generations.apiKeyId}`;
    case "lane":
      return sql`${generations.params} ->> 'priority'`;
  }
}

/** Counts, GPU time, cost, holds and cache savings of the account's generations in [from, to). */
export async function readUsage(db: Database, q: UsageQuery): Promise<UsageReport> {
  const l = usageLedger;
  const perGeneration = db.$with("per_generation").as(
    db
      .select({
        generationId: l.generationId,
        at: sql<Date>`min(${l.createdAt})`.as("u_at"),
        amount: sql<string>`sum(${l.amountMicrousd})`.as("u_amount"),
        closed: sql<boolean>`bool_or(${l.kind} in ('settle', 'refund', 'cached'))`.as("u_closed"),
        settled: sql<boolean>`bool_or(${l.kind} = 'settle')`.as("u_settled"),
        refunded: sql<boolean>`bool_or(${l.kind} = 'refund')`.as("u_refunded"),
        cached: sql<boolean>`bool_or(${l.kind} = 'cached' or ${l.savedMicrousd} is not null)`.as(
          "u_cached",
        ),
        saved: sql<string>`coalesce(sum(${l.savedMicrousd}), 0)`.as("u_saved"),
        gpuMs: sql<number>`max(${l.gpuMs})`.as("u_gpu_ms"),
        region: sql<string>`max(${l.region})`.as("u_region"),
        projectId: sql<string>`max(${l.projectId})`.as("u_project_id"),
      })
      .from(l)
      // Every row of a generation accepted in range is at or after its reservation.
      .where(and(eq(l.accountId, q.accountId), gte(l.createdAt, q.from)))
      .groupBy(l.generationId)
      .having(sql`min(${l.createdAt}) < ${q.to.toISOString()}::timestamptz`),
  );
  const g = {
    at: sql`${perGeneration.at}`,
    region: sql`${perGeneration.region}`,
    projectId: sql`${perGeneration.projectId}`,
  };
  const key = q.groupBy === null ? sql`null::text` : groupKey(q.groupBy, g);
  const ranMs = sql`extract(epoch from (${generations.completedAt} - ${generations.createdAt})) * 1000`;
  const ran = sql`${generations.status} = 'succeeded' and not ${perGeneration.cached}`;
  const filters: SQL[] = [eq(generations.mode, q.mode)];
  if (q.projectId !== undefined) filters.push(eq(generations.projectId, q.projectId));
  const grouped = q.groupBy !== null;
  const query = db
    .with(perGeneration)
    .select({
      key: sql<string | null>`${key}`,
      total: grouped ? sql<number>`grouping(${key})` : sql<number>`1`,
      requests: sql<number>`count(*)::int`,
      succeeded: sql<number>`(count(*) filter (where ${perGeneration.settled}))::int`,
      refunded: sql<number>`(count(*) filter (where ${perGeneration.refunded}))::int`,
      cached: sql<number>`(count(*) filter (where ${perGeneration.cached}))::int`,
      inFlight: sql<number>`(count(*) filter (where not ${perGeneration.closed}))::int`,
      gpuMs: sql<string>`coalesce(sum(${perGeneration.gpuMs}) filter (where ${perGeneration.closed}), 0)`,
      cost: sql<string>`coalesce(sum(${perGeneration.amount}) filter (where ${perGeneration.closed}), 0)`,
      reserved: sql<string>`coalesce(sum(${perGeneration.amount}) filter (where not ${perGeneration.closed}), 0)`,
      saved: sql<string>`coalesce(sum(${perGeneration.saved}), 0)`,
      p50: sql<
        number | null
      >`percentile_cont(0.5) within group (order by ${ranMs}) filter (where ${ran})`,
      p95: sql<
        number | null
      >`percentile_cont(0.95) within group (order by ${ranMs}) filter (where ${ran})`,
    })
    .from(perGeneration)
    .innerJoin(generations, eq(generations.id, perGeneration.generationId))
    .where(and(...filters));
  // One statement for the groups and the totals (percentiles cannot be summed from the groups).
  const rows = grouped
    ? await query
        .groupBy(sql`grouping sets ((${key}), ())`)
        .orderBy(sql`grouping(${key}) desc`, sql`${key} nulls last`)
    : await query;

  let totals: UsageFigures = emptyFigures();
  const groups: UsageRow[] = [];
  for (const row of rows) {
    const figures: UsageFigures = {
      requests: Number(row.requests),
      succeeded: Number(row.succeeded),
      refunded: Number(row.refunded),
      cached: Number(row.cached),
      inFlight: Number(row.inFlight),
      gpuMs: Number(row.gpuMs),
      costMicrousd: Number(row.cost),
      reservedMicrousd: Number(row.reserved),
      savedMicrousd: Number(row.saved),
      p50Ms: row.p50 === null ? null : Math.round(Number(row.p50)),
      p95Ms: row.p95 === null ? null : Math.round(Number(row.p95)),
    };
    if (Number(row.total) === 1) totals = figures;
    else if (q.groupBy !== null) groups.push({ key: row.key, ...figures });
  }
  return { totals, groups };
}

export function emptyFigures(): UsageFigures {
  return {
    requests: 0,
    succeeded: 0,
    refunded: 0,
    cached: 0,
    inFlight: 0,
    gpuMs: 0,
    costMicrousd: 0,
    reservedMicrousd: 0,
    savedMicrousd: 0,
    p50Ms: null,
    p95Ms: null,
  };
}

/**
 * The month's live spend (sum of ledger rows since `since`, open holds included, as the account
 * limiter counts it) of the account, and of one project across every account generating under it.
 */
export async function readMonthSpend(
  db: Database,
  { accountId, projectId, since }: { accountId: string; projectId: string | null; since: Date },
): Promise<{ accountMicrousd: number; projectMicrousd: number }> {
  const l = usageLedger;
  const sinceIso = sql`${since.toISOString()}::timestamptz`;
  const [row] = await db
    .select({
      account: sql<string>`(select coalesce(sum(${l.amountMicrousd}), 0) from ${l} where ${l.accountId} = ${accountId} and ${l.createdAt} >= ${sinceIso})`,
      project: sql<string>`(select coalesce(sum(${l.amountMicrousd}), 0) from ${l} where ${projectId}::text is not null and ${l.projectId} = ${projectId}::text and ${l.createdAt} >= ${sinceIso})`,
    })
    .from(sql`(select 1) as one`);
  return { accountMicrousd: Number(row?.account ?? 0), projectMicrousd: Number(row?.project ?? 0) };
}
