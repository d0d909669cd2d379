import type { Database } from "../../db/client/index.ts";
import { PgStyleIndex } from "../../storage/style-index/pg-style-index.ts";
import { ShardLayout } from "../../storage/style-index/shard-layout.ts";
import { ShardedStyleIndex } from "../../storage/style-index/sharded-style-index.ts";
import type { StyleIndex } from "../../storage/style-index/style-index.ts";
import type { Log } from "../lib/log.ts";
import type { RegionDirectory } from "../routing/region-directory.ts";
import type { RegionSigningKeys } from "../routing/region-keyring.ts";
import { StyleIndexSync } from "./style-index-sync.ts";
import { TextStyleEmbedder } from "./text-style.ts";

// Style search's per-app parts: the index, its sync from the style records, and text queries.

/**
 * The embedded default: Postgres shards in the app's own database, one for private outputs and one
 * for public ones (each its own HNSW graph, so public search never walks private vectors).
 */
export function defaultStyleIndex(db: Database): StyleIndex {
  const layout = new ShardLayout({ private: 1, public: 1 });
  return new ShardedStyleIndex(
    layout,
    [0, 1].map((shard) => new PgStyleIndex({ db, shard })),
  );
}

export interface StyleServiceDeps {
  db: Database;
  styleIndex?: StyleIndex;
  directory: RegionDirectory;
  fetch: typeof fetch;
  keys: RegionSigningKeys;
  clock: () => number;
  log: Log;
  timeoutMs: number;
}

export function styleServices(deps: StyleServiceDeps) {
  const styleIndex = deps.styleIndex ?? defaultStyleIndex(deps.db);
  return {
    styleIndex,
    styleSync: new StyleIndexSync({
      db: deps.db,
      index: styleIndex,
      log: deps.log,
      clock: deps.clock,
    }),
    textStyles: new TextStyleEmbedder({
      directory: deps.directory,
      fetch: deps.fetch,
      keys: deps.keys,
      clock: deps.clock,
      timeoutMs: deps.timeoutMs,
      log: deps.log,
    }),
  };
}
