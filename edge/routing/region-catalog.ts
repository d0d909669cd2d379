import type { Database } from "../../db/client/index.ts";
import { listRegions } from "../../db/queries/regions.ts";
import type { Region } from "../../db/schema/regions.ts";
import { describeError } from "../lib/describe-error.ts";
import type { RegionDirectory } from "./region-directory.ts";

export interface RegionCatalogOptions {
  db: Database;
  directory: RegionDirectory;
  clock: () => number;
  /** How long one read of the regions table is reused. */
  ttlMs: number;
  log: (entry: Record<string, unknown>) => void;
}

/**
 * The regions table as this isolate last read it (at most `ttlMs` old): GPU prices for pricing,
 * and the heartbeats other isolates stored, fed into the directory. On Workers a heartbeat lands
 * in one isolate only; this is how the others learn of it.
 */
export class RegionCatalog {
  readonly #opts: RegionCatalogOptions;
  #rows = new Map<string, Region>();
  #loadedAt = -Infinity;
  #loading: Promise<void> | null = null;

  constructor(opts: RegionCatalogOptions) {
    this.#opts = opts;
  }

  /** Rows by region name; a failed read is logged and the previous rows are kept. */
  async rows(): Promise<ReadonlyMap<string, Region>> {
    if (this.#opts.clock() - this.#loadedAt >= this.#opts.ttlMs) {
      this.#loading ??= this.#load().finally(() => {
        this.#loading = null;
      });
      await this.#loading;
    }
    return this.#rows;
  }

  async gpuPricePerHourMicrousd(region: string): Promise<number | null> {
    return (await this.rows()).get(region)?.gpuPricePerHourMicrousd ?? null;
  }

  async #load(): Promise<void> {
    const { db, directory, clock, log } = this.#opts;
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
    this.#loadedAt = clock();
  }
}
