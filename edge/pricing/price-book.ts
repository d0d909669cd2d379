import type { Priority } from "../../contracts/api.ts";
import type { Database } from "../../db/client/index.ts";
import { listPrices } from "../../db/queries/prices.ts";
import type { Price } from "../../db/schema/prices.ts";
import type { Log } from "../lib/log.ts";
import {
  DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD,
  estimateGpuMs,
  jobCostMicrousd,
  type UnitPrice,
} from "../generations/pricing.ts";
import { describeError } from "../lib/describe-error.ts";
import { RefreshAhead } from "../lib/refresh-ahead.ts";
import type { RegionCatalog } from "../routing/region-catalog.ts";

export interface PriceCell {
  modelVersionId: string | null;
  lane: Priority;
  /** null: not known yet (the default list price applies). */
  region: string | null;
}

export interface PriceBookOptions {
  db: Database;
  catalog: RegionCatalog;
  clock: () => number;
  /** How long one read of the price table is reused in this isolate. */
  ttlMs: number;
  log: Log;
  /** Re-reads past half their life run here (waitUntil), off the requests' path. */
  background?: (work: Promise<unknown>) => void;
}

/** The most specific row wins: model version, then region, then lane. */
const specificity = (row: Price) =>
  (row.modelVersionId !== null ? 4 : 0) +
  (row.region !== null ? 2 : 0) +
  (row.lane !== null ? 1 : 0);

/** The row of `rows` that prices `cell`, or null when none matches. Pure. */
export function matchPrice(rows: readonly Price[], cell: PriceCell): Price | null {
  let best: Price | null = null;
  for (const row of rows) {
    if (row.modelVersionId !== null && row.modelVersionId !== cell.modelVersionId) continue;
    if (row.lane !== null && row.lane !== cell.lane) continue;
    if (row.region !== null && row.region !== cell.region) continue;
    if (!best || specificity(row) > specificity(best)) best = row;
  }
  return best;
}

/**
 * The price table as this isolate last read it (at most `ttlMs` old), resolved to unit prices:
 * every estimate and every charge goes through `priceOf` and `jobCostMicrousd`.
 */
export class PriceBook {
  readonly #o: PriceBookOptions;
  #rows: Price[] = [];
  readonly #read: RefreshAhead<null, readonly Price[]>;

  constructor(opts: PriceBookOptions) {
    this.#o = opts;
    this.#read = new RefreshAhead({
      load: () => this.#load(),
      clock: opts.clock,
      ttlMs: opts.ttlMs,
      background: opts.background ?? ((work) => void work),
    });
  }

  rows(): Promise<readonly Price[]> {
    return this.#read.get(null);
  }

  async priceOf(cell: PriceCell): Promise<UnitPrice> {
    const row = matchPrice(await this.rows(), cell);
    const listed =
      cell.region === null ? null : await this.#o.catalog.gpuPricePerHourMicrousd(cell.region);
    const regionHour = listed ?? DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD;
    return {
      gpuHourMicrousd: row?.gpuSecondMicrousd == null ? regionHour : row.gpuSecondMicrousd * 3600,
      megapixelMicrousd: row?.megapixelMicrousd ?? 0,
      multiplier: row?.multiplier ?? 1,
    };
  }

  /** The expected cost of a job before it runs, from the model version's measured GPU time. */
  async estimate(
    cell: PriceCell & { gpuMsPerMegapixel: number | null; width: number; height: number },
    planMultiplier: number,
  ): Promise<number> {
    const price = await this.priceOf(cell);
    const gpuMs = estimateGpuMs(cell.gpuMsPerMegapixel, cell.width, cell.height);
    return jobCostMicrousd(
      price,
      { gpuMs, width: cell.width, height: cell.height },
      planMultiplier,
    );
  }

  async #load(): Promise<readonly Price[]> {
    try {
      this.#rows = await listPrices(this.#o.db);
    } catch (err) {
      this.#o.log({ level: "warn", msg: "prices table unreadable", error: describeError(err) });
    }
    return this.#rows;
  }
}
