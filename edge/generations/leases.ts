import type { AttemptEndReason, GenerationAttempt, GenerationStatus } from "../../contracts/api.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";

// Leases: every job the edge hands to a region has a deadline (`lease_expires_at`), renewed while
// the region's heartbeats list the job. A job whose region (or holding node) stops heartbeating,
// whose region's heartbeats stop listing it, or whose lease runs out is taken back and dispatched
// again; after the last attempt the generation fails `region_lost`. These are the pure rules; the
// I/O lives in lease-sweep.ts (timer / cron), held-jobs.ts (heartbeats) and redispatch.ts.

export const DEFAULT_LEASE_TUNING = {
  /** Added to every lease on top of the expected wait and run. */
  leaseMarginMs: 30_000,
  /** The region's own wait estimate is trusted up to this many times over. */
  leaseWaitFactor: 2,
  /** A heartbeat that lists a job extends its lease to at least this far ahead. */
  leaseRenewMs: 30_000,
  /** No lease runs past this long after its dispatch, however often it is renewed. */
  leaseMaxMs: 3_600_000,
  /**
   * A heartbeat proves a job forgotten only when the job was dispatched at least this long before
   * the heartbeat arrived (the region's snapshot may predate the job; clocks and sends lag).
   */
  leaseGraceMs: 5_000,
  /** A row not yet dispatched is the sweep's to dispatch once this long has passed. */
  dispatchLeaseMs: 60_000,
  /** A generation waiting for a region is offered to the regions again this often. */
  redispatchRetryMs: 5_000,
  /** A generation no region would take for this long fails (`region_lost`, refunded). */
  maxWaitForRegionMs: 10 * 60_000,
  /** Node and Deno: how often the sweep runs (Workers: each cron tick). */
  sweepIntervalMs: 5_000,
  /** Rows one sweep acts on at most (the rest wait for the next). */
  sweepBatch: 100,
};
export type LeaseTuning = typeof DEFAULT_LEASE_TUNING;

/** Deadline of a job a region just accepted. */
export function leaseDeadline(
  at: number,
  { estimatedWaitMs, expectedRunMs }: { estimatedWaitMs: number; expectedRunMs: number },
  t: LeaseTuning,
): number {
  const ahead = t.leaseWaitFactor * estimatedWaitMs + 2 * expectedRunMs + t.leaseMarginMs;
  return at + Math.min(ahead, t.leaseMaxMs);
}

/**
 * The row names a dispatch that no region has answered yet: a new submit's row is written with its
 * intended route (edge/generations/dispatch-generation.ts, intendedRoute) and the outcome after.
 * Until then its job may be at any region the decision offers it to (a failover), and only its
 * dispatch lease (`lease_expires_at`) says when it is overdue.
 */
export function awaitingDispatchAnswer(row: Pick<GenerationRow, "jobId" | "routing">): boolean {
  return (
    row.jobId !== null &&
    row.routing !== null &&
    row.routing.region === null &&
    row.routing.job_id === row.jobId
  );
}

/** Whether the row's pending decision may have offered its job to `region`. */
export function offeredTo(row: Pick<GenerationRow, "jobId" | "routing">, region: string): boolean {
  return (
    awaitingDispatchAnswer(row) &&
    row.routing!.candidates.some((c) => c.region === region && c.outcome !== "skipped")
  );
}

/** The attempt number of the next dispatch: the ones given up, plus one. */
export const nextAttempt = (row: Pick<GenerationRow, "attempts">) => row.attempts.length + 1;

/** The record of the current dispatch, given up (or, with reason null, ended) at `at`. */
export function endedAttempt(
  row: Pick<GenerationRow, "region" | "jobId" | "routedAt" | "createdAt">,
  at: Date,
  reason: AttemptEndReason | null,
): GenerationAttempt {
  return {
    region: row.region ?? "",
    job_id: row.jobId ?? "",
    started_at: (row.routedAt ?? row.createdAt).toISOString(),
    ended_at: at.toISOString(),
    reason,
  };
}

/**
 * Every dispatch of a generation for its public view: the ones given up and the current one, but
 * only when there was more than one (a generation that ran where it was first sent shows none).
 */
export function attemptsOf(
  row: Pick<
    GenerationRow,
    "attempts" | "region" | "jobId" | "routedAt" | "createdAt" | "completedAt" | "status"
  >,
): GenerationAttempt[] {
  if (row.attempts.length === 0) return [];
  // No current dispatch, or the current one is the last given up (the generation failed with it).
  if (row.jobId === null || row.region === null) return row.attempts;
  if (row.attempts.at(-1)?.job_id === row.jobId) return row.attempts;
  // An earlier attempt whose late result won ran from when it was first dispatched.
  const earlier = row.attempts.find((a) => a.job_id === row.jobId);
  const current = {
    ...endedAttempt(row, new Date(0), null),
    ...(earlier && { started_at: earlier.started_at }),
    ended_at: row.completedAt?.toISOString() ?? null,
  };
  return [...row.attempts, current];
}

/** When a generation began waiting for a region: the end of its last attempt, or its creation. */
export function waitingSince(row: Pick<GenerationRow, "attempts" | "createdAt">): number {
  const last = row.attempts.at(-1);
  return last?.ended_at ? Date.parse(last.ended_at) : row.createdAt.getTime();
}

/** One row as the sweep reads it: the generation and when its holder was last heard from. */
export interface SweepCandidate {
  row: Pick<
    GenerationRow,
    | "status"
    | "region"
    | "jobId"
    | "leaseHolder"
    | "leaseExpiresAt"
    | "attempts"
    | "createdAt"
    | "routing"
  > & { status: GenerationStatus };
  /** Newest heartbeat (edge clock) of the node holding the job, or of any node of its region when
   * the region's shared queue holds it; null when none was ever recorded. */
  holderSeenAt: number | null;
}

export interface SweepContext {
  now: number;
  heartbeatTtlMs: number;
  /**
   * Until then, silence proves nothing: an edge that was itself down heard no heartbeats, so it
   * waits one TTL after starting (Node, Deno) before judging regions by their silence.
   */
  judgeSilenceFrom: number;
  tuning: LeaseTuning;
}

export type SweepAction =
  /** Dispatched, and the region lost it (the reason says how). */
  | { kind: "lose"; reason: AttemptEndReason }
  /** Not dispatched (new, or waiting for a region), and due: offer it to the regions. */
  | { kind: "dispatch" }
  /** Waited for a region for too long: fail it. */
  | { kind: "give_up" };

/** What the sweep does with one in-flight generation; null: leave it be. */
export function sweepAction(c: SweepCandidate, ctx: SweepContext): SweepAction | null {
  const { row } = c;
  const due = row.leaseExpiresAt === null || row.leaseExpiresAt.getTime() <= ctx.now;
  if (row.jobId === null || row.region === null) {
    if (!due) return null;
    return ctx.now - waitingSince(row) > ctx.tuning.maxWaitForRegionMs
      ? { kind: "give_up" }
      : { kind: "dispatch" };
  }
  // A dispatch still waiting for its answer is its own process's to finish (a region tried first
  // may be down: the dispatch fails over); once its dispatch lease is over, it is lost.
  if (awaitingDispatchAnswer(row)) return due ? { kind: "lose", reason: "lease_expired" } : null;
  const silent = c.holderSeenAt === null || ctx.now - c.holderSeenAt > ctx.heartbeatTtlMs;
  if (silent && ctx.now >= ctx.judgeSilenceFrom) return { kind: "lose", reason: "region_down" };
  return due ? { kind: "lose", reason: "lease_expired" } : null;
}
