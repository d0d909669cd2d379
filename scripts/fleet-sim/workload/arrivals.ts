import type { Priority } from "../../../contracts/api.ts";
import { SeededRandom } from "../../../regional-gpu/pipelines/seeded-random.ts";
import { METROS, type Metro } from "./geography.ts";

// Requests as the edge receives them: when, from where (a metro), in which lane and at which output
// size. Sources yield them in time order, a minute at a time, so a day of traffic is never held in
// memory at once.

export interface Arrival {
  /** Simulated ms since the run's start (00:00 UTC of day 0). */
  at: number;
  metro: number;
  lane: Priority;
  shape: number;
}

export interface ArrivalSource {
  /** The next minute's arrivals in time order (possibly none); null once the source is done. */
  nextMinute(): Arrival[] | null;
}

export interface Shape {
  width: number;
  height: number;
  share: number;
}

/** Output sizes (the API's default is 512 x 512) and lanes, by share of requests. */
export const SHAPES: readonly Shape[] = [
  { width: 512, height: 512, share: 0.7 },
  { width: 768, height: 768, share: 0.2 },
  { width: 1024, height: 1024, share: 0.1 },
];
export const LANES: readonly { lane: Priority; share: number }[] = [
  { lane: "fast", share: 0.15 },
  { lane: "standard", share: 0.6 },
  { lane: "relax", share: 0.25 },
];

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** Index into `shares` for u in [0, 1). */
export function pick(shares: readonly { share: number }[], u: number): number {
  let acc = 0;
  for (let i = 0; i < shares.length; i++) {
    acc += shares[i]!.share;
    if (u < acc) return i;
  }
  return shares.length - 1;
}

/**
 * Relative traffic at a local hour (mean 1 over a day): a trough before dawn (about 0.4 of the mean
 * at 05:00), rising through the day to an evening peak (1.5 at 21:00).
 */
export function diurnal(localHour: number): number {
  const w = (2 * Math.PI) / 24;
  return 1 + 0.5 * Math.cos(w * (localHour - 17)) + 0.25 * Math.cos(2 * w * (localHour - 21));
}

const localHour = (atMs: number, metro: Metro) =>
  (((atMs / 3_600_000 + metro.utcOffsetHours) % 24) + 24) % 24;

/** Poisson draw (Knuth below 30, a rounded normal above). */
function poisson(mean: number, random: SeededRandom): number {
  if (mean <= 0) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = random.nextFloat();
    while (p > limit) {
      k++;
      p *= random.nextFloat();
    }
    return k;
  }
  const u = Math.max(1e-12, random.nextFloat());
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
}

export interface FlashCrowd {
  atMs: number;
  durationMs: number;
  /** Traffic multiplier while it lasts (20 = twenty times the usual rate). */
  factor: number;
}

export interface DiurnalOptions {
  requestsPerDay: number;
  durationMs: number;
  seed: number;
  flash?: FlashCrowd;
  metros?: readonly Metro[];
  /** Time of day (ms after 00:00 UTC) at the run's start; default midnight. */
  startOfDayMs?: number;
}

/**
 * Poisson arrivals whose rate follows each metro's local day, weighted by its users. Times are ms
 * since the run's start, which is `startOfDayMs` into a UTC day. A flash crowd's time is relative to
 * the run's start too.
 */
export class DiurnalArrivals implements ArrivalSource {
  private readonly opts: DiurnalOptions;
  private readonly metros: readonly Metro[];
  private readonly perUserPerMs: number;
  private readonly random: SeededRandom;
  private minute = 0;

  constructor(opts: DiurnalOptions) {
    this.opts = opts;
    this.metros = opts.metros ?? METROS;
    const users = this.metros.reduce((n, m) => n + m.users, 0);
    this.perUserPerMs = opts.requestsPerDay / DAY_MS / users;
    this.random = new SeededRandom(opts.seed >>> 0);
  }

  /** Expected requests per second from metro `m` at `atMs` (for reports and sizing). */
  metroRate(m: number, atMs: number): number {
    const metro = this.metros[m]!;
    const utc = atMs + (this.opts.startOfDayMs ?? 0);
    return (
      metro.users *
      diurnal(localHour(utc, metro)) *
      this.perUserPerMs *
      1000 *
      this.flashFactor(atMs)
    );
  }

  nextMinute(): Arrival[] | null {
    const start = this.minute * MINUTE_MS;
    if (start >= this.opts.durationMs) return null;
    this.minute++;
    const random = this.random;
    const mid = start + MINUTE_MS / 2;
    const factor = this.flashFactor(mid);
    const utc = mid + (this.opts.startOfDayMs ?? 0);
    const out: Arrival[] = [];
    for (let m = 0; m < this.metros.length; m++) {
      const metro = this.metros[m]!;
      const mean =
        metro.users * diurnal(localHour(utc, metro)) * this.perUserPerMs * MINUTE_MS * factor;
      const n = poisson(mean, random);
      for (let i = 0; i < n; i++) {
        out.push({
          at: start + random.nextFloat() * MINUTE_MS,
          metro: m,
          lane: LANES[pick(LANES, random.nextFloat())]!.lane,
          shape: pick(SHAPES, random.nextFloat()),
        });
      }
    }
    return out.sort((a, b) => a.at - b.at);
  }

  private flashFactor(atMs: number): number {
    const f = this.opts.flash;
    return f && atMs >= f.atMs && atMs < f.atMs + f.durationMs ? f.factor : 1;
  }
}
