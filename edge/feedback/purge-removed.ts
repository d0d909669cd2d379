import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import { markPurged, unpurgedRemovals } from "../../db/queries/reviews.ts";
import type { EdgeServices } from "../deps.ts";
import { describeError } from "../lib/describe-error.ts";
import { callRegion } from "../routing/region-client.ts";
import { dropCachedAsset } from "./hide-reported.ts";

/**
 * Deletes the bytes of outputs removed after review: the edge's cached copies (this isolate's
 * response cache; every other edge refuses them through HiddenAssets), the edge store (R2 on
 * Workers) and the origin region's store (a signed DELETE). A removal is marked purged once all
 * three are done; a region that fails is retried on the next sweep. Returns what happened.
 */
export async function purgeRemovedOutputs(
  s: Pick<
    EdgeServices,
    | "db"
    | "assets"
    | "responseCache"
    | "hiddenAssets"
    | "directory"
    | "keyring"
    | "fetch"
    | "clock"
    | "log"
    | "publicUrl"
    | "tuning"
  >,
  { limit = 100 }: { limit?: number } = {},
): Promise<{ purged: number; failed: number }> {
  let purged = 0;
  let failed = 0;
  for (const removal of await unpurgedRemovals(s.db, { limit })) {
    try {
      if (removal.assetKey !== null) {
        await dropCachedAsset(removal.assetKey, { ...s, cacheOrigins: [s.publicUrl] });
        await s.assets.delete(removal.assetKey);
        await deleteAtOrigin(removal.assetKey, removal.region, s);
      }
      await markPurged(s.db, removal.id, new Date(s.clock()));
      s.log({ level: "info", msg: "removed output purged", generation_id: removal.id });
      purged++;
    } catch (err) {
      failed++;
      s.log({
        level: "warn",
        msg: "purging a removed output failed; retried on the next sweep",
        generation_id: removal.id,
        error: describeError(err),
      });
    }
  }
  return { purged, failed };
}

async function deleteAtOrigin(
  key: string,
  regionName: string | null,
  s: Pick<EdgeServices, "directory" | "keyring" | "fetch" | "clock" | "log" | "tuning">,
): Promise<void> {
  if (regionName === null) return;
  const region = s.directory.get(regionName);
  if (!region) {
    // A region no longer configured holds nothing this edge can reach: its store is gone with it.
    s.log({ level: "warn", msg: "removed output's region is not configured", region: regionName });
    return;
  }
  const res = await callRegion(
    region,
    {
      method: "DELETE",
      path: REGION_PATHS.object(key),
      requestId: `purge_${key.slice(0, 16)}`,
      timeoutMs: s.tuning.originTimeoutMs,
    },
    { fetch: s.fetch, keys: s.keyring, clock: s.clock },
  );
  await res.body?.cancel();
  if (!res.ok && res.status !== 404) {
    throw new Error(`region ${regionName} answered ${res.status} to DELETE ${key}`);
  }
}
