import type { Priority } from "../../../contracts/api.ts";
import { LANES } from "../../../regional-gpu/queue/queue-backend.ts";

/** One generation request as it travels through the simulated platform. */
export interface SimJob {
  id: number;
  /** When the edge received it. */
  arrivedAt: number;
  metro: number;
  lane: Priority;
  laneIndex: number;
  /** Index of its output size: its batch key (one model version). */
  shape: number;
  /** Region holding it, while queued or running. */
  region: number;
  enqueuedAt: number;
  rank: number;
  /** Edge <-> region round trip of the region that took it. */
  rttMs: number;
  /** Time spent on dispatch attempts that failed (timeouts, push-back) and redispatch waits. */
  delayMs: number;
  /** Dispatches so far (1 + redispatches after a region was lost). */
  attempts: number;
  /** Regions that lost it (not tried again). */
  exclude: Set<string> | null;
}

/** A request as the edge first sees it: not yet dispatched anywhere. */
export function newSimJob(
  id: number,
  arrival: { at: number; metro: number; lane: Priority; shape: number },
): SimJob {
  return {
    id,
    arrivedAt: arrival.at,
    metro: arrival.metro,
    lane: arrival.lane,
    laneIndex: LANES.indexOf(arrival.lane),
    shape: arrival.shape,
    region: -1,
    enqueuedAt: 0,
    rank: 0,
    rttMs: 0,
    delayMs: 0,
    attempts: 1,
    exclude: null,
  };
}
