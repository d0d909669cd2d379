import type { Priority } from "../../../contracts/api.ts";

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
