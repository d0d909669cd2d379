import {
  QUARANTINE_PREFIX,
  REGION_PATHS,
  type RegionConfig,
} from "../../contracts/region-protocol.ts";
import { assertValidKey, type ObjectStore } from "../../storage/object-store.ts";
import { ApiError } from "../errors/index.ts";
import { sha256Hex } from "../lib/digest.ts";
import { callRegion, type RegionClientDeps } from "../routing/region-client.ts";
import type { Log } from "../lib/log.ts";

export interface LoadAssetDeps extends RegionClientDeps {
  assets: ObjectStore;
  timeoutMs: number;
  waitUntil: (work: Promise<unknown>) => void;
  log: Log;
}

export interface LoadedAsset {
  bytes: Uint8Array;
  contentType: string;
  sha256: string;
  source: "store" | "origin";
}

const CONTENT_ADDRESSED = /^([0-9a-f]{64})\.[a-z0-9]{2,5}$/;

/** `<sha256>.<ext>`: bytes that never change under their key. */
export const isContentAddressed = (key: string) => CONTENT_ADDRESSED.test(key);

/** Keys the edge may serve: well-formed, and never a quarantined (blocked) output. */
export function isServableKey(key: string): boolean {
  if (key.startsWith(QUARANTINE_PREFIX)) return false;
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

const originUnavailable = (message: string) =>
  new ApiError({
    type: "overloaded_error",
    code: "origin_unavailable",
    message,
    headers: { "Retry-After": "5" },
  });

/**
 * The asset's bytes from the edge store, else from its origin region (a signed object fetch),
 * filling the edge store in the background. Null when neither has it.
 */
export async function loadAsset(
  key: string,
  origin: RegionConfig | undefined,
  requestId: string,
  deps: LoadAssetDeps,
): Promise<LoadedAsset | null> {
  const stored = await deps.assets.get(key);
  if (stored) {
    const sha256 = stored.metadata.sha256 ?? (await sha256Hex(stored.body));
    return { bytes: stored.body, contentType: stored.contentType, sha256, source: "store" };
  }
  if (!origin) return null;

  let res: Response;
  try {
    res = await callRegion(
      origin,
      { method: "GET", path: REGION_PATHS.object(key), requestId, timeoutMs: deps.timeoutMs },
      deps,
    );
  } catch (err) {
    deps.log({
      level: "warn",
      msg: "origin unreachable",
      region: origin.name,
      key,
      request_id: requestId,
      error: String(err),
    });
    throw originUnavailable(`the asset's origin region (${origin.name}) is unreachable`);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) {
    await res.body?.cancel();
    deps.log({
      level: "warn",
      msg: "origin refused object fetch",
      region: origin.name,
      key,
      status: res.status,
      request_id: requestId,
    });
    throw originUnavailable(`the asset's origin region (${origin.name}) cannot serve it now`);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const sha256 = await sha256Hex(bytes);
  // A content-addressed key names its bytes: anything else is corrupt and must not be cached.
  const expected = CONTENT_ADDRESSED.exec(key)?.[1];
  if (expected !== undefined && expected !== sha256) {
    deps.log({
      level: "error",
      msg: "origin bytes do not match their key",
      region: origin.name,
      key,
      sha256,
      request_id: requestId,
    });
    throw originUnavailable("the asset's origin returned corrupt bytes");
  }
  const contentType = res.headers.get("content-type") ?? "application/octet-stream";
  deps.waitUntil(deps.assets.put(key, bytes, { contentType, metadata: { sha256 } }));
  return { bytes, contentType, sha256, source: "origin" };
}
