import type { Heartbeat, RegionConfig } from "../../contracts/region-protocol.ts";
import { greatCircleKm, type GeoPoint } from "./geo.ts";

/**
 * - healthy: a node heartbeated recently and takes jobs;
 * - unknown: never heard from (cold start): tryable;
 * - stale: heard from before, silent now: tried only as a last resort;
 * - draining: every recently heard node refuses work (draining or not ready);
 * - tripped: too many consecutive dispatch failures; skipped until the cool-down ends.
 */
export type RegionHealth = "healthy" | "unknown" | "stale" | "draining" | "tripped";

export interface RegionDirectoryOptions {
  clock?: () => number;
  /** A heartbeat older than this no longer counts (regions send one every ~2 s). */
  heartbeatTtlMs?: number;
  /** Consecutive failures that open the breaker. */
  breakerThreshold?: number;
  /** How long an open breaker keeps a region out; after it one trial request is let through. */
  breakerCooldownMs?: number;
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
}

const DEFAULTS = { heartbeatTtlMs: 15_000, breakerThreshold: 3, breakerCooldownMs: 30_000 };
// Nodes silent this many TTLs are forgotten (node ids change with every restart).
const FORGET_AFTER_TTLS = 20;

/** The edge's view of its regions: fed by heartbeats and dispatch outcomes, asked for a ranking. */
export class RegionDirectory {
  readonly #regions = new Map<string, RegionState>();
  readonly #clock: () => number;
  readonly #opts: typeof DEFAULTS;

  constructor(regions: readonly RegionConfig[], opts: RegionDirectoryOptions = {}) {
    const { clock, ...rest } = opts;
    this.#clock = clock ?? Date.now;
    this.#opts = { ...DEFAULTS, ...stripUndefined(rest) };
    for (const config of regions) {
      this.#regions.set(config.name, {
        config,
        nodes: new Map(),
        consecutiveFailures: 0,
        trippedUntil: 0,
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
    const known = region.nodes.get(heartbeat.node_id);
    if (!known || known.receivedAt <= receivedAt) {
      region.nodes.set(heartbeat.node_id, { heartbeat, receivedAt });
    }
    const forgetBefore = this.#clock() - FORGET_AFTER_TTLS * this.#opts.heartbeatTtlMs;
    for (const [id, node] of region.nodes)
      if (node.receivedAt < forgetBefore) region.nodes.delete(id);
    return true;
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
   * Regions to try, best first: healthy and never-heard-from ones by distance from the client
   * (configuration order when the client's location is unknown), then stale ones as a last
   * resort. Draining and tripped regions, and `exclude`, are left out.
   */
  rank(client: GeoPoint | null, exclude: ReadonlySet<string> = new Set()): RegionConfig[] {
    const now = this.#clock();
    const candidates: { config: RegionConfig; tier: number; km: number; order: number }[] = [];
    let order = 0;
    for (const region of this.#regions.values()) {
      order += 1;
      if (exclude.has(region.config.name)) continue;
      const health = this.#health(region, now);
      if (health === "draining" || health === "tripped") continue;
      candidates.push({
        config: region.config,
        tier: health === "stale" ? 1 : 0,
        km: client ? greatCircleKm(client, region.config) : 0,
        order,
      });
    }
    candidates.sort((a, b) => a.tier - b.tier || a.km - b.km || a.order - b.order);
    return candidates.map((c) => c.config);
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
