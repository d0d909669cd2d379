import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { LANES, MINUTE_MS, pick, SHAPES, type Arrival, type ArrivalSource } from "./arrivals.ts";
import { METROS, type Metro } from "./geography.ts";

// Replays the per-invocation CSV of the Azure Functions Invocation Trace 2021
// (github.com/Azure/AzurePublicDataset, AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt; CC-BY):
// `app,func,end_timestamp,duration`, times in seconds from the trace's start. An invocation arrives
// at end_timestamp - duration. The trace has no geography or image sizes: each app is placed in a
// metro (weighted by users) and each function given a lane and an output size, by hashing their ids,
// so one app's bursts come from one place and one function always asks for the same size.

export interface AzureTraceOptions {
  path: string;
  /** Replay this many times faster than recorded (rates multiply by it). */
  speedup?: number;
  /** Replay at most this much simulated time from the first arrival. */
  windowMs?: number;
  metros?: readonly Metro[];
}

export interface AzureTrace extends ArrivalSource {
  /** Invocations replayed, rows skipped as malformed, simulated span. */
  readonly invocations: number;
  readonly skipped: number;
  readonly spanMs: number;
}

const COLUMNS = ["app", "func", "end_timestamp", "duration"] as const;

/** FNV-1a, 32 bits: a stable hash of an id, the same on every machine. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const unit = (hash: number) => hash / 0x1_0000_0000;

async function* lines(path: string): AsyncGenerator<string> {
  const raw = createReadStream(path);
  const input = path.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  yield* createInterface({ input, crlfDelay: Infinity });
}

export async function loadAzureTrace(opts: AzureTraceOptions): Promise<AzureTrace> {
  const metros = opts.metros ?? METROS;
  const users = metros.reduce((n, m) => n + m.users, 0);
  const metroShares = metros.map((m) => ({ share: m.users / users }));
  let starts = new Float64Array(1 << 16);
  let apps = new Uint32Array(1 << 16);
  let funcs = new Uint32Array(1 << 16);
  let n = 0;
  let skipped = 0;
  let index: number[] | null = null;
  for await (const line of lines(opts.path)) {
    const cells = line.split(",");
    if (index === null) {
      index = COLUMNS.map((c) => cells.findIndex((h) => h.trim().toLowerCase() === c));
      if (index.some((i) => i < 0)) {
        throw new Error(
          `${opts.path}: header must name ${COLUMNS.join(",")} (got "${line.slice(0, 80)}")`,
        );
      }
      continue;
    }
    const end = Number(cells[index[2]!]);
    const duration = Number(cells[index[3]!]);
    const app = cells[index[0]!];
    const func = cells[index[1]!];
    if (!app || !func || !Number.isFinite(end) || !Number.isFinite(duration) || duration < 0) {
      if (line.trim() !== "") skipped++;
      continue;
    }
    if (n === starts.length) {
      starts = grow(starts);
      apps = grow(apps);
      funcs = grow(funcs);
    }
    starts[n] = (end - duration) * 1000;
    apps[n] = fnv1a(app);
    funcs[n] = fnv1a(`${app}/${func}`);
    n++;
  }
  if (index === null) throw new Error(`${opts.path}: empty trace`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => starts[a]! - starts[b]!);
  const speedup = opts.speedup ?? 1;
  const first = n > 0 ? starts[order[0]!]! : 0;
  const window = opts.windowMs ?? Infinity;
  const arrivals: Arrival[] = [];
  for (const i of order) {
    const at = (starts[i]! - first) / speedup;
    if (at >= window) break;
    const f = funcs[i]!;
    arrivals.push({
      at,
      metro: pick(metroShares, unit(apps[i]!)),
      lane: LANES[pick(LANES, unit(Math.imul(f, 0x9e3779b1) >>> 0))]!.lane,
      shape: pick(SHAPES, unit(f)),
    });
  }
  return new ReplayedTrace(arrivals, skipped);
}

function grow<T extends Float64Array | Uint32Array>(a: T): T {
  const next = new (a.constructor as new (n: number) => T)(a.length * 2);
  next.set(a);
  return next;
}

class ReplayedTrace implements AzureTrace {
  readonly invocations: number;
  readonly skipped: number;
  readonly spanMs: number;
  private readonly arrivals: Arrival[];
  private next = 0;
  private minute = 0;

  constructor(arrivals: Arrival[], skipped: number) {
    this.arrivals = arrivals;
    this.invocations = arrivals.length;
    this.skipped = skipped;
    this.spanMs = arrivals.length > 0 ? arrivals[arrivals.length - 1]!.at : 0;
  }

  nextMinute(): Arrival[] | null {
    if (this.next >= this.arrivals.length) return null;
    const end = ++this.minute * MINUTE_MS;
    const out: Arrival[] = [];
    while (this.next < this.arrivals.length && this.arrivals[this.next]!.at < end) {
      out.push(this.arrivals[this.next++]!);
    }
    return out;
  }
}
