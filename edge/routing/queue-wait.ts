import type { Priority } from "../../contracts/api.ts";
import type { Heartbeat } from "../../contracts/region-protocol.ts";

export type LaneCounts = Record<Priority, number>;

/** Regions serve fast > standard > relax: a job waits behind its own lane and every faster one. */
export function lanesAhead(lane: Priority): Priority[] {
  if (lane === "fast") return ["fast"];
  if (lane === "standard") return ["fast", "standard"];
  return ["fast", "standard", "relax"];
}

const sum = (counts: LaneCounts, lanes: Priority[]) => lanes.reduce((n, l) => n + counts[l], 0);

/**
 * Expected wait of a job of `lane` at one node, from its heartbeat. The node's own per-lane
 * estimate when it sends one, else (jobs ahead + running) x service time per image. When every
 * queued job is ahead of this one, the age of the oldest is a floor: a queue that is not moving
 * (a stuck batch, a slow model load) must not look short.
 */
export function nodeWaitMs(heartbeat: Heartbeat, lane: Priority, defaultServiceMs: number): number {
  const ahead = lanesAhead(lane);
  const queuedAhead = sum(heartbeat.queue_depth, ahead);
  const estimate =
    heartbeat.estimated_wait_ms?.[lane] ??
    (queuedAhead + heartbeat.in_flight) * serviceMsOf(heartbeat, defaultServiceMs);
  const queuedTotal = sum(heartbeat.queue_depth, ["fast", "standard", "relax"]);
  const stalled =
    queuedAhead > 0 && queuedAhead === queuedTotal ? (heartbeat.oldest_job_age_ms ?? 0) : 0;
  return Math.max(estimate, stalled);
}

/**
 * Measured service time per image; from older nodes that do not send it, the inverse of their
 * throughput; else the default (a node that has not finished a batch yet).
 */
export function serviceMsOf(heartbeat: Heartbeat, defaultServiceMs: number): number {
  if (heartbeat.service_ms_per_image != null) return heartbeat.service_ms_per_image;
  return heartbeat.throughput_per_s > 0 ? 1000 / heartbeat.throughput_per_s : defaultServiceMs;
}

/**
 * Expected wait of a job of `lane` in a region: the soonest of its nodes that take work (a shared
 * queue, or a balancer, hands the job to whichever frees up first), plus the jobs this edge sent
 * there since those heartbeats, spread over the nodes. Without that, a burst between two heartbeats
 * would all pile onto the region that looked idle.
 */
export function regionWaitMs(
  nodes: readonly Heartbeat[],
  lane: Priority,
  sentSinceHeartbeat: LaneCounts,
  defaultServiceMs: number,
): number {
  const sentAhead = sum(sentSinceHeartbeat, lanesAhead(lane));
  if (nodes.length === 0) return sentAhead * defaultServiceMs;
  let best = Infinity;
  for (const node of nodes) {
    const extra = (sentAhead * serviceMsOf(node, defaultServiceMs)) / nodes.length;
    best = Math.min(best, nodeWaitMs(node, lane, defaultServiceMs) + extra);
  }
  return Math.round(best);
}
