import { and, asc, eq, inArray, isNull, lt, notInArray, or, sql, type SQL } from "drizzle-orm";
import type { GenerationAttempt, GenerationRouting } from "../../contracts/api.ts";
import type { HeldJobs } from "../../contracts/region-protocol.ts";
import type { Database } from "../client/types.ts";
import { generations, type GenerationRow } from "../schema/generations.ts";
import { regionNodes, regions } from "../schema/regions.ts";

// Queries behind the leases on dispatched jobs (edge/generations/leases.ts). Every change is
// conditional on the job id the caller saw, so two sweeps, a heartbeat and a late event racing on
// one generation cannot both act: the first write wins and the others change nothing.

const inFlight = () => inArray(generations.status, ["queued", "running"]);

/** Generations a lease sweep looks at, with when their holder was last heard from. */
export interface LeaseCandidate {
  row: GenerationRow;
  holderSeenAt: Date | null;
}

/**
 * In-flight generations (not followers) whose lease is due (or missing), or whose holder has not
 * been heard from since `silentBefore`: the node named by `lease_holder`, or any node of the region
 * when the region's shared queue holds the job. Most urgent first, at most `limit`.
 */
export async function findLeasesDue(
  db: Database,
  { now, silentBefore, limit }: { now: Date; silentBefore: Date; limit: number },
): Promise<LeaseCandidate[]> {
  const holderSeen = sql`(
    select max(n.last_heartbeat_at) from ${regionNodes} as n
    where n.region = ${generations.region}
      and (${generations.leaseHolder} is null or n.node_id = ${generations.leaseHolder}))`;
  // Epoch ms: a raw timestamp comes back as text in each driver's own format.
  const holderSeenMs = sql<number | null>`(extract(epoch from ${holderSeen}) * 1000)::float8`;
  const rows = await db
    .select({ row: generations, holderSeen: holderSeenMs.as("holder_seen_ms") })
    .from(generations)
    .where(
      and(
        inFlight(),
        isNull(generations.mergedIntoGenerationId),
        or(
          isNull(generations.leaseExpiresAt),
          lt(generations.leaseExpiresAt, now),
          and(
            sql`${generations.jobId} is not null`,
            sql`coalesce(${holderSeen}, '-infinity'::timestamptz) < ${silentBefore.toISOString()}::timestamptz`,
          ),
        ),
      ),
    )
    .orderBy(sql`${generations.leaseExpiresAt} asc nulls first`, asc(generations.id))
    .limit(limit);
  return rows.map(({ row, holderSeen: seen }) => ({
    row,
    holderSeenAt: seen === null ? null : new Date(Number(seen)),
  }));
}

export interface RouteLease {
  jobId: string;
  holder: string | null;
  expiresAt: Date;
}

/**
 * Requeues a generation whose current dispatch (`jobId`) was lost: the attempt is appended to its
 * history, the region, holder and job cleared, and the row is queued again (`startedAt` too: it
 * starts over), due for dispatch at `dueAt`. Null when the row moved on (another attempt, an
 * outcome, a cancel).
 */
export async function requeueLostAttempt(
  db: Database,
  id: string,
  { jobId, attempt, dueAt }: { jobId: string; attempt: GenerationAttempt; dueAt: Date },
): Promise<GenerationRow | null> {
  const [row] = await db
    .update(generations)
    .set({
      status: "queued",
      region: null,
      jobId: null,
      leaseHolder: null,
      leaseExpiresAt: dueAt,
      startedAt: null,
      estimatedWaitMs: null,
      attempts: sql`${generations.attempts} || ${JSON.stringify([attempt])}::jsonb`,
    })
    .where(and(eq(generations.id, id), eq(generations.jobId, jobId), inFlight()))
    .returning();
  return row ?? null;
}

/**
 * Takes an undispatched generation for dispatch (or another wait): moves its due time from the one
 * the caller saw (`seen`) to `until`, and optionally records the routing decision. Null when
 * another sweep took it first, or it was dispatched, ended or canceled meanwhile.
 */
export async function claimDispatch(
  db: Database,
  id: string,
  { seen, until, routing }: { seen: Date | null; until: Date; routing?: GenerationRouting },
): Promise<GenerationRow | null> {
  const [row] = await db
    .update(generations)
    .set({ leaseExpiresAt: until, ...(routing && { routing }) })
    .where(
      and(
        eq(generations.id, id),
        eq(generations.status, "queued"),
        isNull(generations.jobId),
        seen === null ? isNull(generations.leaseExpiresAt) : eq(generations.leaseExpiresAt, seen),
      ),
    )
    .returning();
  return row ?? null;
}

/**
 * A heartbeat listed these jobs of `region`: their leases run at least until `until`, never past
 * `maxMs` after their dispatch. Only leases that would end sooner are written. Returns how many.
 */
export async function renewLeases(
  db: Database,
  region: string,
  jobIds: readonly string[],
  { until, maxMs }: { until: Date; maxMs: number },
): Promise<number> {
  if (jobIds.length === 0) return 0;
  const cap = sql`${generations.routedAt} + make_interval(secs => ${maxMs / 1000})`;
  const renewed = await db
    .update(generations)
    .set({ leaseExpiresAt: sql`least(${until.toISOString()}::timestamptz, ${cap})` })
    .where(
      and(
        eq(generations.region, region),
        inFlight(),
        inArray(generations.jobId, [...jobIds]),
        lt(generations.leaseExpiresAt, until),
        sql`${generations.leaseExpiresAt} < ${cap}`,
      ),
    )
    .returning({ id: generations.id });
  return renewed.length;
}

/**
 * Jobs of `region` that a complete list of what its holder holds (`held`) does not name, dispatched
 * before `dispatchedBefore` (so the list cannot predate them): the holder forgot them. A node's
 * list covers the jobs it holds alone; the region's shared-queue list covers all of the region's.
 */
export async function findForgottenJobs(
  db: Database,
  {
    region,
    nodeId,
    held,
    dispatchedBefore,
  }: { region: string; nodeId: string; held: HeldJobs; dispatchedBefore: Date },
): Promise<GenerationRow[]> {
  const holder: SQL =
    held.scope === "node" ? eq(generations.leaseHolder, nodeId) : isNull(generations.leaseHolder);
  return db
    .select()
    .from(generations)
    .where(
      and(
        eq(generations.region, region),
        inFlight(),
        sql`${generations.jobId} is not null`,
        // A dispatch not yet answered may still be on its way to the region (or at another):
        // its dispatch lease covers it (edge/generations/leases.ts, awaitingDispatchAnswer).
        sql`${generations.routing}->>'region' is not null`,
        holder,
        lt(generations.routedAt, dispatchedBefore),
        ...(held.jobs.length > 0 ? [notInArray(generations.jobId, [...held.jobs])] : []),
      ),
    );
}

/** Counts, on the region's row, a job taken away from it (and whether its lease had expired). */
export async function countRedispatch(
  db: Database,
  region: string,
  { leaseExpired }: { leaseExpired: boolean },
): Promise<void> {
  await db
    .update(regions)
    .set({
      redispatches: sql`${regions.redispatches} + 1`,
      ...(leaseExpired && { leaseExpiries: sql`${regions.leaseExpiries} + 1` }),
    })
    .where(eq(regions.name, region));
}

/**
 * Records that a node of `region` was heard from (the sweep reads whether holders are alive). A
 * region missing from the regions table records nothing.
 */
export async function recordNodeHeartbeat(
  db: Database,
  { region, nodeId, at, scope }: { region: string; nodeId: string; at: Date; scope: string | null },
): Promise<void> {
  const holdsScope = scope === "node" || scope === "region" ? scope : null;
  await db.execute(sql`
    insert into ${regionNodes} (id, region, node_id, last_heartbeat_at, holds_scope)
    select ${`${region}/${nodeId}`}, ${region}, ${nodeId}, ${at.toISOString()}::timestamptz, ${holdsScope}
    where exists (select 1 from ${regions} where ${regions.name} = ${region})
    on conflict (id) do update
      set last_heartbeat_at = excluded.last_heartbeat_at, holds_scope = excluded.holds_scope`);
}

/** Forgets nodes not heard from since `before` (node ids change with every restart). */
export async function forgetSilentNodes(db: Database, before: Date): Promise<number> {
  const gone = await db
    .delete(regionNodes)
    .where(lt(regionNodes.lastHeartbeatAt, before))
    .returning({ nodeId: regionNodes.nodeId });
  return gone.length;
}
