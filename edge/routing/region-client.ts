import { signRequest } from "../../contracts/signing.ts";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import type { RegionSigningKeys } from "./region-keyring.ts";

export interface RegionClientDeps {
  fetch: typeof fetch;
  /** Each region's key (the call to a region is signed with its key only). */
  keys: RegionSigningKeys;
  clock: () => number;
}

export interface RegionCall {
  method: "GET" | "POST" | "DELETE";
  /** A path of REGION_PATHS, appended to the region's endpoint (which may carry a path prefix). */
  path: string;
  body?: string;
  requestId: string;
  timeoutMs: number;
}

export function regionUrl(region: RegionConfig, path: string): URL {
  return new URL(region.endpoint.replace(/\/+$/, "") + path);
}

/** One signed call to a region; the signature covers the path and query the region receives. */
export async function callRegion(
  region: RegionConfig,
  call: RegionCall,
  deps: RegionClientDeps,
): Promise<Response> {
  const url = regionUrl(region, call.path);
  const body = call.body ?? "";
  const signature = await signRequest(
    deps.keys.signingKey(region.name),
    { method: call.method, path: url.pathname + url.search, body },
    deps.clock(),
  );
  return deps.fetch(url, {
    method: call.method,
    headers: {
      ...signature,
      "x-request-id": call.requestId,
      ...(call.method === "POST" && { "content-type": "application/json" }),
    },
    ...(call.method === "POST" && { body }),
    signal: AbortSignal.timeout(call.timeoutMs),
  });
}

/** Retry-After in whole seconds (delta-seconds or an HTTP date); null when absent or unusable. */
export function retryAfterSeconds(value: string | null, now: number): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
