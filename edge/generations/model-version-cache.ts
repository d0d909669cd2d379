import type { Database } from "../../db/client/index.ts";
import { getActiveModelVersion, type ResolvedModelVersion } from "../../db/queries/models.ts";

/**
 * How long one resolution of `name` / `name@version` is reused: a version activated or retired
 * reaches every request within this long. Versions change by release, a few times a day at most.
 */
export const MODEL_VERSION_TTL_MS = 5_000;
/** Bounds the names remembered (only resolvable ones are kept, so this is the catalog's size). */
const MAX_ENTRIES = 256;

interface Entry {
  value: ResolvedModelVersion;
  loadedAt: number;
}

// Per database (one per app or test), so isolates and test databases never see each other's.
const caches = new WeakMap<Database, Map<string, Entry>>();

/**
 * getActiveModelVersion through a short in-isolate cache: every submit resolves its model, and
 * the answer is the same for seconds at a time. Unknown names are not cached (they cost a lookup
 * each, as before) so that they cannot fill it.
 */
export async function resolveModelVersion(
  db: Database,
  name: string,
  pinned: string | undefined,
  now: number,
): Promise<ResolvedModelVersion | null> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const key = pinned === undefined ? name : `${name}@${pinned}`;
  const hit = cache.get(key);
  if (hit && now - hit.loadedAt < MODEL_VERSION_TTL_MS && now >= hit.loadedAt) return hit.value;
  const value = await getActiveModelVersion(db, name, pinned);
  cache.delete(key);
  if (value) {
    cache.set(key, { value, loadedAt: now });
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  }
  return value;
}
