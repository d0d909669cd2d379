import type { Database } from "../../db/client/index.ts";
import { listRegions } from "../../db/queries/regions.ts";
import type { Region } from "../../db/schema/regions.ts";
import { describeError } from "../lib/describe-error.ts";
import { RefreshAhead } from "../lib/refresh-ahead.ts";
import type { RegionDirectory } from "./region-directory.ts";
import type { Log } from "../lib/log.ts";

export interface RegionCatalogOptions {
  db: Database;
  directory: RegionDirectory;
  clock: () => number;
  /** How long one read of the regions table is reused. */
  ttlMs: number;
  log: Log;
  /** Re-reads past half their life run here (waitUntil), off the requests' path. */
  background?: (work: Promise<unknown>) => void;
}

/**
 * The regions table as this isolate last read it (at most `ttlMs` old, re-read ahead of that in
 * the background): GPU prices for pricing, and the heartbeats other isolates stored, fed into the
 * directory. On Workers a heartbeat lands in one isolate only; this is how the others learn of it.
 */
export class RegionCatalog {
  readonly #opts: RegionCatalogOptions;
  #rows = new Map<string, Region>();
  readonly #read: RefreshAhead<null, ReadonlyMap<string, Region>>;

  constructor(opts: RegionCatalogOptions) {
    this.#opts = opts;
    this.#read = new RefreshAhead({
      load: () => this.#load(),
      clock: opts.clock,
      ttlMs: opts.ttlMs,
      background: opts.background ?? ((work) => void work),
    });
  }

  /** Rows by region name; a failed read is logged and the previous rows are kept. */
  rows(): Promise<ReadonlyMap<string, Region>> {
    return this.#read.get(null);
  }

  async gpuPricePerHourMicrousd(region: string): Promise<number | null> {
    return (await this.rows()).get(region)?.gpuPricePerHourMicrousd ?? null;
  }

  async #load(): Promise<ReadonlyMap<string, Region>> {
    const { db, directory, log } = this.#opts;
    try {
      const rows = await listRegions(db);
      this.#rows = new Map(rows.map((r) => [r.name, r]));
      for (const row of rows) {
        if (row.heartbeat && row.lastHeartbeatAt) {
          directory.observeHeartbeat(row.heartbeat, row.lastHeartbeatAt.getTime());
        }
      }
    } catch (err) {
      log({ level: "warn", msg: "regions table unreadable", error: describeError(err) });
    }
    return this.#rows;
  }
}
