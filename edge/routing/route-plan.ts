import type { Priority, RouteCandidate } from "../../contracts/api.ts";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import type { GeoPoint } from "./geo.ts";
import { DEFAULT_RTT_MODEL, type RttModel } from "./network-rtt.ts";

/**
 * - healthy: a node heartbeated recently and takes jobs;
 * - unknown: never heard from (cold start): tryable;
 * - stale: heard from before, silent now: tried only as a last resort;
 * - draining: every recently heard node refuses work (draining or not ready);
 * - tripped: too many consecutive dispatch failures; until the cool-down ends, tried only after
 *   every other region failed the request.
 */
export type RegionHealth = RouteCandidate["state"];

export interface RoutingModel {
  rtt: RttModel;
  /** Service time per image assumed for a region that has not reported one. */
  defaultServiceMs: number;
  /** Added where no live node has the job's model version warm (load from disk or object store). */
  coldModelPenaltyMs: number;
}

export const DEFAULT_ROUTING_MODEL: RoutingModel = {
  rtt: DEFAULT_RTT_MODEL,
  defaultServiceMs: 1_000,
  coldModelPenaltyMs: 5_000,
};

export interface RouteRequest {
  /** Where the client is (request.cf, or the development override); null when unknown. */
  client: GeoPoint | null;
  /** The edge location round trips are learned for (request.cf.colo); null: none, nothing learned. */
  colo: string | null;
  /** The job's lane: its expected wait counts the jobs of this lane and faster ones. */
  lane: Priority;
  /** `name@version` of the job's model, matched against heartbeats' warm_models; null: no penalty. */
  model: string | null;
  /** Regions not to try (e.g. the one that just gave the job back). */
  exclude?: ReadonlySet<string>;
}

/** One region's expected completion for a request: rtt + queue + cold, in ms. */
export interface ScoredRegion {
  config: RegionConfig;
  state: RegionHealth;
  /** False for draining and excluded regions: scored, listed, never tried. */
  eligible: boolean;
  expectedMs: number;
  rttMs: number | null;
  queueMs: number;
  coldMs: number;
}

export interface RoutePlan {
  /**
   * Eligible regions in the order to try them: soonest expected completion first; stale ones after
   * the live ones; ones whose breaker is open last of all.
   */
  candidates: ScoredRegion[];
  /** Ineligible regions, for the record. */
  skipped: ScoredRegion[];
}

// A region silent past its heartbeat TTL may be gone: tried after the live ones. One whose breaker
// is open is tried only when every other has failed this request: the breaker sheds load from a
// failing region, but never turns a request away while a region might still take it.
const TIER: Record<RegionHealth, number> = {
  healthy: 0,
  unknown: 0,
  stale: 1,
  tripped: 2,
  draining: 3,
};
const tierOf = (state: RegionHealth) => TIER[state];

/**
 * Orders scored regions: by tier, then expected completion, then round trip, then configuration
 * (the order of `scored`, which the stable sort keeps among equals). Runs for every request.
 */
export function orderPlan(scored: readonly ScoredRegion[]): RoutePlan {
  const candidates = scored
    .filter((s) => s.eligible)
    .sort(
      (a, b) =>
        tierOf(a.state) - tierOf(b.state) ||
        a.expectedMs - b.expectedMs ||
        (a.rttMs ?? 0) - (b.rttMs ?? 0),
    );
  return { candidates, skipped: scored.filter((s) => !s.eligible) };
}

/** Whole milliseconds for the record (the comparison itself uses the unrounded values). */
export const roundMs = (ms: number) => Math.round(ms);
