import type { Database } from "../../db/client/index.ts";
import { markStyleIndexed, unindexedStyleRecords } from "../../db/queries/style-embeddings.ts";
import type { StyleIndex } from "../../storage/style-index/style-index.ts";
import type { Log } from "../lib/log.ts";
import { describeError } from "../lib/describe-error.ts";
import { entryOf } from "./style-records.ts";

// Brings the style index up to the style records: every record whose `indexed_at` is null (new,
// hidden, moved to public) is written to the index, then marked. Kicked after each region event
// that records a style, and by a schedule (the Worker's cron, the Node entry's start), so a record
// left behind by a crash or an index outage is taken by the next run: nothing stays unsearchable.

export interface StyleIndexSyncOptions {
  db: Database;
  index: StyleIndex;
  log: Log;
  clock: () => number;
  /** Records per round (a Vectorize upsert takes at most 1000). */
  batch?: number;
  /** Rounds per run, so one run cannot hold a Worker request for ever. */
  maxRounds?: number;
}

export class StyleIndexSync {
  private readonly opts: Required<StyleIndexSyncOptions>;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(opts: StyleIndexSyncOptions) {
    this.opts = { batch: 500, maxRounds: 20, ...opts };
  }

  /** Runs a sync, or asks the running one for another pass. Never rejects (failures are logged). */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.syncOnce();
        } catch (err) {
          this.opts.log({
            level: "error",
            msg: "style index sync failed",
            error: describeError(err),
          });
          return;
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Writes pending records to the index; answers how many. Throws when the index fails. */
  async syncOnce(): Promise<number> {
    const { db, index, batch, maxRounds } = this.opts;
    let total = 0;
    for (let round = 0; round < maxRounds; round++) {
      const pending = await unindexedStyleRecords(db, batch);
      if (pending.length === 0) break;
      await index.upsert(pending.map(entryOf));
      await markStyleIndexed(db, pending, new Date(this.opts.clock()));
      total += pending.length;
      if (pending.length < batch) break;
    }
    return total;
  }
}
