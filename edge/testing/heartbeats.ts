import { REGION_PATHS, type Heartbeat } from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { testRegionKey } from "./region-keys.ts";

type Requester = { request(path: string, init?: RequestInit): Response | Promise<Response> };

/** An idle, ready node of `region` with `warm` loaded, as a regional node reports itself. */
export function idleHeartbeat(
  region: string,
  warm: string[],
  over: Partial<Heartbeat> = {},
): Heartbeat {
  return {
    region,
    node_id: `${region}-node-1`,
    at: new Date().toISOString(),
    ready: true,
    draining: false,
    queue_depth: { fast: 0, standard: 0, relax: 0 },
    in_flight: 0,
    capacity: 4,
    throughput_per_s: 0,
    warm_models: warm,
    failure_rate: 0,
    execution_provider: "cpu",
    service_ms_per_image: 50,
    ...over,
  };
}

/** Posts a region's signed heartbeat straight into an app (what a region does over HTTP). */
export async function deliverHeartbeat(
  app: Requester,
  /** The development secret (TEST_SECRETS.regionSigning): signed with the region's derived key. */
  secret: string,
  heartbeat: Heartbeat,
): Promise<Response> {
  const path = REGION_PATHS.heartbeat(heartbeat.region);
  const body = JSON.stringify(heartbeat);
  const headers = await signRequest(testRegionKey(secret, heartbeat.region), {
    method: "POST",
    path,
    body,
  });
  return app.request(path, {
    method: "POST",
    body,
    headers: { ...headers, "content-type": "application/json" },
  });
}
