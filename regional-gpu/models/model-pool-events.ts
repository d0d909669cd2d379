import { EventEmitter } from "node:events";
import type { LoadTier } from "./model-repository.ts";

// The model tiers' hooks for metrics: a typed emitter the Prometheus module subscribes to, plus
// running counters for anyone who would rather read a snapshot. Listeners must not throw.
//
//   load   -> histogram model_load_seconds{tier}; hot-tier hit ratio = hot / all loads,
//             disk-tier hit ratio = disk / (disk + store)
//   evict  -> counter model_evictions_total{tier}
//   corrupt, failure -> counters

export type CacheTier = "memory" | "disk";

export interface ModelLoadEvent {
  ref: string;
  /** "hot": it was loaded already; "disk": loaded from a local file; "store": fetched first. */
  tier: LoadTier;
  /** Wall time of the acquire (manifest, fetch, verify, session, warm-up). */
  seconds: number;
  /** Measured footprint, for loads that created a session. */
  footprintBytes?: number;
}

export interface ModelEvictEvent {
  ref: string;
  tier: CacheTier;
  bytes: number;
}

export interface ModelCorruptEvent {
  ref: string;
  file: string;
  detail: string;
}

export interface ModelFailureEvent {
  ref: string;
  code: string;
  message: string;
}

export interface ModelPoolEventMap {
  load: [ModelLoadEvent];
  evict: [ModelEvictEvent];
  corrupt: [ModelCorruptEvent];
  failure: [ModelFailureEvent];
}

export interface ModelPoolCounters {
  loads: Record<LoadTier, number>;
  loadSeconds: Record<LoadTier, number>;
  evictions: Record<CacheTier, number>;
  corrupt: number;
  failures: number;
}

export class ModelPoolEvents extends EventEmitter<ModelPoolEventMap> {
  readonly counters: ModelPoolCounters = {
    loads: { hot: 0, disk: 0, store: 0 },
    loadSeconds: { hot: 0, disk: 0, store: 0 },
    evictions: { memory: 0, disk: 0 },
    corrupt: 0,
    failures: 0,
  };

  constructor() {
    super();
    this.on("load", (e) => {
      this.counters.loads[e.tier] += 1;
      this.counters.loadSeconds[e.tier] += e.seconds;
    });
    this.on("evict", (e) => (this.counters.evictions[e.tier] += 1));
    this.on("corrupt", () => (this.counters.corrupt += 1));
    this.on("failure", () => (this.counters.failures += 1));
  }

  /** Share of loads served by the hot tier, and of the rest by the disk tier; null before any. */
  hitRatios(): { hot: number | null; disk: number | null } {
    const { hot, disk, store } = this.counters.loads;
    const all = hot + disk + store;
    return {
      hot: all === 0 ? null : hot / all,
      disk: disk + store === 0 ? null : disk / (disk + store),
    };
  }
}
