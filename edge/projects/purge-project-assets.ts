import type { Database } from "../../db/client/index.ts";
import { listProjectAssetKeys } from "../../db/queries/projects.ts";
import type { ObjectStore } from "../../storage/object-store.ts";
import { ASSETS_PATH } from "../assets/asset-url.ts";
import type { ResponseCache } from "../assets/response-cache.ts";

export interface PurgeDeps {
  db: Database;
  /** The edge's copy of the outputs (R2 on Workers, a folder on Node and Deno). */
  assets: ObjectStore;
  /** Public responses served without a key check (the Cache API on Workers and Deno). */
  responseCache: ResponseCache | undefined;
}

/**
 * A project made private: its outputs must stop being served to anyone from the edge's caches.
 * Each asset is dropped from the response cache (keyed by `origin` + path, as the asset route
 * stores it) and from the edge store, which refills from the origin region on the next authorised
 * read. Returns how many assets were purged.
 */
export async function purgeProjectAssets(
  projectId: string,
  origin: string,
  deps: PurgeDeps,
): Promise<number> {
  let purged = 0;
  let after = "";
  for (;;) {
    const keys = await listProjectAssetKeys(deps.db, projectId, { after, limit: 500 });
    if (keys.length === 0) return purged;
    await Promise.all(
      keys.map(async (key) => {
        await deps.responseCache?.delete(new Request(new URL(`${ASSETS_PATH}/${key}`, origin)));
        await deps.assets.delete(key);
      }),
    );
    purged += keys.length;
    after = keys.at(-1)!;
  }
}
