import type { Priority } from "../../contracts/api.ts";
import type { Heartbeat, RegionConfig } from "../../contracts/region-protocol.ts";
import type { GeoPoint } from "./geo.ts";
import { distanceRttMs, RttObservations } from "./network-rtt.ts";
import { regionWaitMs, type LaneCounts } from "./queue-wait.ts";
import {
  DEFAULT_ROUTING_MODEL,
  orderPlan,
  type RegionHealth,
  type RouteRequest,
  type RoutePlan,
  type RoutingModel,
  type ScoredRegion,
} from "./route-plan.ts";

export type { RegionHealth } from "./route-plan.ts";

export interface RegionDirectoryOptions {
  clock?: () => number;
  /** A heartbeat older than this no longer counts (regions send one every ~2 s). */
  heartbeatTtlMs?: number;
  /** Consecutive failures that open the breaker. */
  breakerThreshold?: number;
  /** How long an open breaker keeps a region out; after it one trial request is let through. */
  breakerCooldownMs?: number;
  /** The constants of the expected-completion estimate. */
  model?: Partial<RoutingModel>;
}

export interface RegionStatus {
  name: string;
  health: RegionHealth;
  last_heartbeat_at: string | null;
  queue_depth: Heartbeat["queue_depth"] | null;
  warm_models: string[];
}

interface NodeState {
  heartbeat: Heartbeat;
  receivedAt: number;
}

interface RegionState {
  config: RegionConfig;
  nodes: Map<string, NodeState>;
  consecutiveFailures: number;
  trippedUntil: number;
  /** Jobs this edge handed over since the region's newest heartbeat (which cannot show them yet). */
  sentSinceHeartbeat: LaneCounts;
  /** When that count started: a region that stops heartbeating does not keep it forever. */
  sentCountedFrom: number;
}

const DEFAULTS = { heartbeatTtlMs: 15_000, breakerThreshold: 3, breakerCooldownMs: 30_000 };
// Nodes silent this many TTLs are forgotten (node ids change with every restart).
const FORGET_AFTER_TTLS = 20;
// Jobs sent to a region count against its queue until a heartbeat shows them, or this long.
const SENT_COUNT_WINDOW_MS = 5_000;
const noLanes = (): LaneCounts => ({ fast: 0, standard: 0, relax: 0 });

/**
 * The edge's view of its regions, fed by heartbeats and dispatch outcomes: scores each region's
 * expected completion for a request (network round trip + queue wait in the job's lane + cold
 * model penalty) and keeps a circuit breaker per region.
 */
export class RegionDirectory {
  readonly #regions = new Map<string, RegionState>();
  readonly #clock: () => number;
  readonly #opts: typeof DEFAULTS;
  readonly #model: RoutingModel;
  readonly #rtt: RttObservations;

  constructor(regions: readonly RegionConfig[], opts: RegionDirectoryOptions = {}) {
    const { clock, model, ...rest } = opts;
    this.#clock = clock ?? Date.now;
    this.#opts = { ...DEFAULTS, ...stripUndefined(rest) };
    this.#model = { ...DEFAULT_ROUTING_MODEL, ...model };
    this.#rtt = new RttObservations(this.#model.rtt);
    for (const config of regions) {
      this.#regions.set(config.name, {
        config,
        nodes: new Map(),
        consecutiveFailures: 0,
        trippedUntil: 0,
        sentSinceHeartbeat: noLanes(),
        sentCountedFrom: this.#clock(),
      });
    }
  }

  get(name: string): RegionConfig | undefined {
    return this.#regions.get(name)?.config;
  }

  list(): RegionConfig[] {
    return [...this.#regions.values()].map((r) => r.config);
  }

  /** Records a heartbeat received at `receivedAt` (edge clock); false for an unconfigured region. */
  observeHeartbeat(heartbeat: Heartbeat, receivedAt: number = this.#clock()): boolean {
    const region = this.#regions.get(heartbeat.region);
    if (!region) return false;
    const newest = this.#newest(region)?.receivedAt ?? -Infinity;
    const known = region.nodes.get(heartbeat.node_id);
    if (!known || known.receivedAt <= receivedAt) {
      region.nodes.set(heartbeat.node_id, { heartbeat, receivedAt });
    }
    // A newer heartbeat counts the jobs sent before it.
    if (receivedAt > newest) this.#resetSent(region, receivedAt);
    const forgetBefore = this.#clock() - FORGET_AFTER_TTLS * this.#opts.heartbeatTtlMs;
    for (const [id, node] of region.nodes)
      if (node.receivedAt < forgetBefore) region.nodes.delete(id);
    return true;
  }

  /** The region accepted a job of `lane`: it waits there until the next heartbeat shows it. */
  recordAccepted(name: string, lane: Priority): void {
    const region = this.#regions.get(name);
    if (!region) return;
    const now = this.#clock();
    if (now - region.sentCountedFrom > SENT_COUNT_WINDOW_MS) this.#resetSent(region, now);
    region.sentSinceHeartbeat[lane] += 1;
  }

  /**
   * A dispatch got an HTTP answer after `elapsedMs`: a round trip from `colo` to the region. Without
   * a colo the sample belongs to no place (clients anywhere share one process) and is not kept.
   */
  observeRtt(colo: string | null, name: string, elapsedMs: number, client: GeoPoint | null): void {
    const region = this.#regions.get(name);
    if (!region || colo === null) return;
    const prior = client ? distanceRttMs(client, region.config, this.#model.rtt) : null;
    this.#rtt.observe(colo, name, elapsedMs, prior);
  }

  recordSuccess(name: string): void {
    const region = this.#regions.get(name);
    if (region) region.consecutiveFailures = 0;
  }

  /** A connect error, timeout or 5xx. At the threshold (and on each failure after it) the breaker opens. */
  recordFailure(name: string): void {
    const region = this.#regions.get(name);
    if (!region) return;
    region.consecutiveFailures += 1;
    if (region.consecutiveFailures >= this.#opts.breakerThreshold) {
      region.trippedUntil = this.#clock() + this.#opts.breakerCooldownMs;
    }
  }

  health(name: string): RegionHealth | undefined {
    const region = this.#regions.get(name);
    return region && this.#health(region, this.#clock());
  }

  /**
   * Every region scored for `request`: candidates in the order to try them (soonest expected
   * completion first; stale regions after live ones, tripped ones last), draining and excluded
   * ones skipped.
   */
  plan(request: RouteRequest): RoutePlan {
    const now = this.#clock();
    const exclude = request.exclude ?? new Set<string>();
    const scored: ScoredRegion[] = [];
    for (const region of this.#regions.values()) {
      const state = this.#health(region, now);
      const live = this.#liveNodes(region, now);
      // A stale region is scored from what it last said.
      const basis = live.length > 0 ? live : state === "stale" ? this.#lastKnown(region) : [];
      const rttMs = this.#rttMs(request, region.config);
      // A region never heard from is neither loaded nor cold as far as the edge knows: its size
      // and models are unknown, so it is scored on distance alone.
      const heard = basis.length > 0;
      const sent =
        heard && now - region.sentCountedFrom <= SENT_COUNT_WINDOW_MS
          ? region.sentSinceHeartbeat
          : noLanes();
      const queueMs = regionWaitMs(basis, request.lane, sent, this.#model.defaultServiceMs);
      const warm =
        request.model === null ||
        !heard ||
        basis.some((h) => h.warm_models.includes(request.model!));
      const coldMs = warm ? 0 : this.#model.coldModelPenaltyMs;
      scored.push({
        config: region.config,
        state,
        eligible: state !== "draining" && !exclude.has(region.config.name),
        expectedMs: (rttMs ?? 0) + queueMs + coldMs,
        rttMs,
        queueMs,
        coldMs,
      });
    }
    return orderPlan(scored);
  }

  /** Regions to try, best first, for a standard-lane job of no particular model (see plan()). */
  rank(client: GeoPoint | null, exclude: ReadonlySet<string> = new Set()): RegionConfig[] {
    return this.plan({ client, colo: null, lane: "standard", model: null, exclude }).candidates.map(
      (c) => c.config,
    );
  }

  /** Public status of every region (for /healthz and GET /v1/regions). */
  describe(): RegionStatus[] {
    const now = this.#clock();
    return [...this.#regions.values()].map((region) => {
      const newest = this.#newest(region);
      return {
        name: region.config.name,
        health: this.#health(region, now),
        last_heartbeat_at: newest ? new Date(newest.receivedAt).toISOString() : null,
        queue_depth: newest?.heartbeat.queue_depth ?? null,
        warm_models: newest?.heartbeat.warm_models ?? [],
      };
    });
  }

  #resetSent(region: RegionState, from: number): void {
    region.sentSinceHeartbeat = noLanes();
    region.sentCountedFrom = from;
  }

  /** Learned round trip for the colo when there is one, else the distance model, else unknown. */
  #rttMs(request: RouteRequest, config: RegionConfig): number | null {
    const learned = request.colo === null ? null : this.#rtt.estimate(request.colo, config.name);
    if (learned !== null) return learned;
    return request.client ? distanceRttMs(request.client, config, this.#model.rtt) : null;
  }

  /** Nodes heard from within the TTL that take work. */
  #liveNodes(region: RegionState, now: number): Heartbeat[] {
    const live: Heartbeat[] = [];
    for (const node of region.nodes.values()) {
      const { heartbeat } = node;
      if (
        now - node.receivedAt <= this.#opts.heartbeatTtlMs &&
        heartbeat.ready &&
        !heartbeat.draining
      )
        live.push(heartbeat);
    }
    return live;
  }

  #lastKnown(region: RegionState): Heartbeat[] {
    const newest = this.#newest(region);
    return newest ? [newest.heartbeat] : [];
  }

  #health(region: RegionState, now: number): RegionHealth {
    if (region.trippedUntil > now) return "tripped";
    if (region.nodes.size === 0) return "unknown";
    const fresh = [...region.nodes.values()].filter(
      (n) => now - n.receivedAt <= this.#opts.heartbeatTtlMs,
    );
    if (fresh.length === 0) return "stale";
    return fresh.some((n) => n.heartbeat.ready && !n.heartbeat.draining) ? "healthy" : "draining";
  }

  #newest(region: RegionState): NodeState | undefined {
    let newest: NodeState | undefined;
    for (const node of region.nodes.values()) {
      if (!newest || node.receivedAt > newest.receivedAt) newest = node;
    }
    return newest;
  }
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
