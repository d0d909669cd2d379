import { greatCircleKm, type GeoPoint } from "./geo.ts";

export interface RttModel {
  /** Light in fibre covers about 200 km per ms (two thirds of c). */
  fibreKmPerMs: number;
  /** Real paths are longer than the great circle (cable routes, peering detours). */
  pathInflation: number;
  /** Fixed cost of a round trip whatever the distance (last mile, switching, TLS record). */
  baseMs: number;
  /** Weight of each new dispatch observation in the running estimate. */
  ewmaAlpha: number;
  /** Observations above this are discarded (a stall is not a round trip). */
  maxSampleMs: number;
  /** Colo x region estimates kept; the oldest-updated is dropped beyond this. */
  maxKeys: number;
}

export const DEFAULT_RTT_MODEL: RttModel = {
  fibreKmPerMs: 200,
  pathInflation: 1.5,
  baseMs: 5,
  ewmaAlpha: 0.25,
  maxSampleMs: 10_000,
  maxKeys: 10_000,
};

/** Round trip predicted from distance alone: base + there and back along an inflated great circle. */
export function distanceRttMs(a: GeoPoint, b: GeoPoint, model: RttModel = DEFAULT_RTT_MODEL) {
  return model.baseMs + (2 * greatCircleKm(a, b) * model.pathInflation) / model.fibreKmPerMs;
}

/**
 * Round trips from one edge location (a colo) to each region, learned from dispatches: an EWMA
 * that starts from the distance model's prediction, so one odd sample cannot replace it outright.
 * Keyed by colo because that is where the edge runs: every client of a colo shares its path.
 */
export class RttObservations {
  readonly #model: RttModel;
  readonly #estimates = new Map<string, { ms: number; samples: number }>();

  constructor(model: RttModel = DEFAULT_RTT_MODEL) {
    this.#model = model;
  }

  /** `priorMs`: the distance model's prediction for this pair, when the client's place is known. */
  observe(colo: string, region: string, sampleMs: number, priorMs: number | null): void {
    if (!Number.isFinite(sampleMs) || sampleMs < 0 || sampleMs > this.#model.maxSampleMs) return;
    const key = keyOf(colo, region);
    const known = this.#estimates.get(key);
    const start = known?.ms ?? priorMs ?? sampleMs;
    const ms = start + this.#model.ewmaAlpha * (sampleMs - start);
    // Re-inserting keeps the map ordered by last update, so the stalest key is evicted first.
    this.#estimates.delete(key);
    this.#estimates.set(key, { ms, samples: (known?.samples ?? 0) + 1 });
    if (this.#estimates.size > this.#model.maxKeys) {
      const oldest = this.#estimates.keys().next().value;
      if (oldest !== undefined) this.#estimates.delete(oldest);
    }
  }

  /** The learned round trip, or null before the first observation. */
  estimate(colo: string, region: string): number | null {
    return this.#estimates.get(keyOf(colo, region))?.ms ?? null;
  }
}

const keyOf = (colo: string, region: string) => `${colo}\u0000${region}`;
