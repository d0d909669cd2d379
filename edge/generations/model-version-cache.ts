import type { Database } from "../../db/client/index.ts";
import { getActiveModelVersion, type ResolvedModelVersion } from "../../db/queries/models.ts";
import { RefreshAhead, type Background } from "../lib/refresh-ahead.ts";

/**
 * How long one resolution of `name` / `name@version` is reused: a version activated or retired
 * reaches every request within this long. Versions change by release, a few times a day at most.
 */
export const MODEL_VERSION_TTL_MS = 5_000;
/** Bounds the names remembered (only resolvable ones are kept, so this is the catalog's size). */
const MAX_ENTRIES = 256;

type Cache = RefreshAhead<string, ResolvedModelVersion | null>;

// Per database (one per app or test), so isolates and test databases never see each other's.
const caches = new WeakMap<Database, Cache>();

/**
 * getActiveModelVersion through a short in-isolate cache: every submit resolves its model, and
 * the answer is the same for seconds at a time. Past half its life an entry is read again in the
 * `background` (waitUntil), so steady traffic never waits for it. Unknown names are not kept
 * (they cost a lookup each, as before) so that they cannot fill it.
 */
export function resolveModelVersion(
  db: Database,
  name: string,
  pinned: string | undefined,
  now: number,
  background?: Background,
): Promise<ResolvedModelVersion | null> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new RefreshAhead({
      load: (key) => {
        const [model, version] = key.split("@") as [string, string?];
        return getActiveModelVersion(db, model, version);
      },
      ttlMs: MODEL_VERSION_TTL_MS,
      keep: (value) => value !== null,
      maxEntries: MAX_ENTRIES,
    });
    caches.set(db, cache);
  }
  return cache.get(pinned === undefined ? name : `${name}@${pinned}`, now, background);
}
