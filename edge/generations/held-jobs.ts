import type { HeldJobs } from "../../contracts/region-protocol.ts";
import { findForgottenJobs, renewLeases } from "../../db/queries/generation-leases.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { loseAttempt } from "./redispatch.ts";

// A heartbeat's list of the jobs its node (or its region's shared queue) holds: the leases on
// them are renewed, and the jobs a complete list leaves out are taken back at once, seconds after
// the region forgot them (a restarted process), instead of at their deadline.

export interface HeldJobsReport {
  region: string;
  nodeId: string;
  holds: HeldJobs;
  /** When the node took the list (its `at`, region clock) and when it arrived (edge clock). */
  sentAt: number;
  receivedAt: number;
}

/** Renews the listed jobs' leases; redispatches the ones the holder forgot. Returns how many. */
export async function applyHeldJobs(
  report: HeldJobsReport,
  callbackBase: string,
  deps: GenerationFlowDeps,
): Promise<{ renewed: number; forgotten: number }> {
  const { region, nodeId, holds, receivedAt } = report;
  const t = deps.leases;
  const renewed = await renewLeases(deps.db, region, holds.jobs, {
    until: new Date(receivedAt + t.leaseRenewMs),
    maxMs: t.leaseMaxMs,
  });
  if (!holds.complete) return { renewed, forgotten: 0 };
  // The list is as old as the node's snapshot, however long it took to arrive (a loaded edge may
  // take seconds to read it): only jobs dispatched a grace before then can be missing from it. The
  // grace also covers the node's clock running ahead of the edge's.
  const takenAt = Number.isFinite(report.sentAt) ? Math.min(report.sentAt, receivedAt) : receivedAt;
  const forgotten = await findForgottenJobs(deps.db, {
    region,
    nodeId,
    held: holds,
    dispatchedBefore: new Date(takenAt - t.leaseGraceMs),
  });
  for (const row of forgotten) await loseAttempt(row, "job_forgotten", callbackBase, deps);
  return { renewed, forgotten: forgotten.length };
}
