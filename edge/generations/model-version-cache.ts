import type { Database } from "../../db/client/index.ts";
import {
  getActiveModelVersion,
  getServingVersions,
  type ResolvedModelVersion,
} from "../../db/queries/models.ts";
import type { ModelVersion } from "../../db/schema/models.ts";
import { RefreshAhead, type Background } from "../lib/refresh-ahead.ts";
import { chooseServingVersion, type ServingVersions } from "./canary-routing.ts";

/**
 * How long one resolution of `name` / `name@version` is reused: a version activated or retired
 * reaches every request within this long. Versions change by release, a few times a day at most.
 */
export const MODEL_VERSION_TTL_MS = 5_000;
/** Bounds the names remembered (only resolvable ones are kept, so this is the catalog's size). */
const MAX_ENTRIES = 256;

/** A pinned version, or the model's default and canary (unpinned). */
type Serving = ServingVersions<ModelVersion> & Pick<ResolvedModelVersion, "model">;
type Cache = RefreshAhead<string, ResolvedModelVersion | Serving | null>;

// Per database (one per app or test), so isolates and test databases never see each other's.
const caches = new WeakMap<Database, Cache>();

/**
 * The version a request runs on, through a short in-isolate cache (every submit resolves its
 * model, and the answer is the same for seconds at a time): `name@version` when pinned (never
 * moved), else the model's default, or its canary for the accounts in the canary's share (sticky
 * per account, canary-routing.ts). Past half its life an entry is read again in the `background`
 * (waitUntil), so steady traffic never waits for it. Unknown names are not kept (they cost a
 * lookup each, as before) so that they cannot fill it.
 */
export async function resolveModelVersion(
  db: Database,
  name: string,
  pinned: string | undefined,
  now: number,
  accountId: string,
  background?: Background,
): Promise<ResolvedModelVersion | null> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new RefreshAhead({
      load: (key): Promise<ResolvedModelVersion | Serving | null> => {
        const [model, version] = key.split("@") as [string, string?];
        return version === undefined
          ? getServingVersions(db, model)
          : getActiveModelVersion(db, model, version);
      },
      ttlMs: MODEL_VERSION_TTL_MS,
      keep: (value) => value !== null,
      maxEntries: MAX_ENTRIES,
    });
    caches.set(db, cache);
  }
  const value = await cache.get(pinned === undefined ? name : `${name}@${pinned}`, now, background);
  if (!value) return null;
  if ("version" in value) return value;
  const version = chooseServingVersion(value, accountId, name);
  return version ? { model: value.model, version } : null;
}

/**
 * Drops what this isolate remembers for `db`: a rollout step taken in the same process (the
 * flywheel simulation's operator) reaches the next request at once instead of within the TTL.
 */
export function forgetModelVersions(db: Database): void {
  caches.delete(db);
}
