import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import { leadersEndedWithActiveFollowers } from "../../db/queries/generation-dedup.ts";
import {
  claimDispatch,
  findLeasesDue,
  forgetSilentNodes,
} from "../../db/queries/generation-leases.ts";
import { endedWithOpenReservation } from "../../db/queries/usage-ledger.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { handOverFollowers } from "./followers.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { sweepAction, type SweepAction } from "./leases.ts";
import { dispatchAgain, giveUp, loseAttempt } from "./redispatch.ts";
import { finishEnded } from "./transitions.ts";

// One pass of the lease sweep: every generation still queued or running whose lease is due, or
// whose holder went silent, is dispatched again, failed, or left be (leases.ts decides which).
// Node and Deno run it on a timer (lease-sweeper.ts), Workers on the cron trigger; several edges
// may sweep one database at once, since every action is conditional on what the sweep read.

export interface SweepDeps extends GenerationFlowDeps {
  /** A holder silent for longer than this is taken to be gone. */
  heartbeatTtlMs: number;
}

export interface SweepOptions {
  /** Absolute base URL regions post their events to. */
  callbackBase: string;
  /** Before then, silence proves nothing (see SweepContext.judgeSilenceFrom). */
  judgeSilenceFrom: number;
  /** The first sweep of a starting edge also closes the spend of generations that ended with it
   * open (a process stopped between the two, before they shared a transaction). */
  atStart?: boolean;
}

export interface SweepReport {
  redispatched: number;
  waiting: number;
  failed: number;
  /** Leaders whose followers were ended (or handed over) late. */
  followersResolved: number;
}

export async function sweepLeases(opts: SweepOptions, deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = { redispatched: 0, waiting: 0, failed: 0, followersResolved: 0 };
  // Heartbeats other isolates stored: the directory routes by them.
  await deps.catalog.rows();
  const now = deps.clock();
  const ctx = {
    now,
    heartbeatTtlMs: deps.heartbeatTtlMs,
    judgeSilenceFrom: opts.judgeSilenceFrom,
    tuning: deps.leases,
  };
  const due = await findLeasesDue(deps.db, {
    now: new Date(now),
    silentBefore: new Date(now - deps.heartbeatTtlMs),
    limit: deps.leases.sweepBatch,
  });
  for (const { row, holderSeenAt } of due) {
    const action = sweepAction({ row, holderSeenAt: holderSeenAt?.getTime() ?? null }, ctx);
    if (!action) continue;
    const outcome = await act(row, action, opts.callbackBase, deps);
    if (outcome === "redispatched") report.redispatched += 1;
    else if (outcome === "waiting") report.waiting += 1;
    else if (outcome === "failed") report.failed += 1;
  }
  report.followersResolved = await resolveOrphanedFollowers(opts.callbackBase, deps);
  if (opts.atStart) {
    for (const row of await endedWithOpenReservation(deps.db, 10_000)) {
      await finishEnded(row, opts.callbackBase, deps);
    }
  }
  // Node ids change with every restart: forget the ones long gone.
  await forgetSilentNodes(deps.db, new Date(now - 20 * deps.heartbeatTtlMs));
  return report;
}

type ActOutcome = "redispatched" | "waiting" | "failed" | "moved_on";

async function act(
  row: GenerationRow,
  action: SweepAction,
  callbackBase: string,
  deps: SweepDeps,
): Promise<ActOutcome> {
  switch (action.kind) {
    case "lose":
      return loseAttempt(row, action.reason, callbackBase, deps);
    case "give_up":
      return (await giveUp(row, callbackBase, deps)) ? "failed" : "moved_on";
    case "dispatch":
      return dispatchDue(row, callbackBase, deps);
  }
}

/**
 * Offers a generation no region holds to the regions again; when none looks able to take it,
 * waits for the next sweep without trying (every try costs a round of timeouts).
 */
async function dispatchDue(
  row: GenerationRow,
  callbackBase: string,
  deps: SweepDeps,
): Promise<ActOutcome> {
  const now = deps.clock();
  const live = deps.directory.describe().some((region) => region.health === "healthy");
  const hold = live ? deps.leases.dispatchLeaseMs : deps.leases.redispatchRetryMs;
  const claimed = await claimDispatch(deps.db, row.id, {
    seen: row.leaseExpiresAt,
    until: new Date(now + hold),
  });
  if (!claimed) return "moved_on";
  if (!live) return "waiting";
  const { row: after, result } = await dispatchAgain(claimed, { from: null }, callbackBase, deps);
  if (result.kind === "accepted") return "redispatched";
  return TERMINAL_STATUSES.has(after.status) ? "failed" : "waiting";
}

/** Followers still in flight behind a leader that ended: end them (or hand the job over). */
async function resolveOrphanedFollowers(callbackBase: string, deps: SweepDeps): Promise<number> {
  const leaders = await leadersEndedWithActiveFollowers(deps.db, deps.leases.sweepBatch);
  for (const leader of leaders) {
    if (leader.status === "canceled") await handOverFollowers(leader, callbackBase, deps);
    else await finishEnded(leader, callbackBase, deps);
  }
  return leaders.length;
}
