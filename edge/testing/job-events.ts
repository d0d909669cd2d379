import type { JobEvent, RegionJob } from "../../contracts/region-protocol.ts";
import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { testRegionKey } from "./region-keys.ts";
import { STYLE_DESCRIPTOR } from "../../contracts/style.ts";
import { storedObjectOf } from "./region-stand-in.ts";

type Requester = { request(path: string, init?: RequestInit): Response | Promise<Response> };

/** Posts a region's signed event straight into an app (what a region does over HTTP). */
export async function deliverEvent(
  app: Requester,
  /** The development secret (TEST_SECRETS.regionSigning): signed with the region's derived key. */
  secret: string,
  event: JobEvent,
): Promise<Response> {
  const path = REGION_PATHS.events(event.region);
  const body = JSON.stringify(event);
  const headers = await signRequest(testRegionKey(secret, event.region), {
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

const base = (job: RegionJob, region: string) => ({
  job_id: job.job_id,
  region,
  request_id: job.request_id,
  at: new Date().toISOString(),
});

export const runningEvent = (job: RegionJob, region: string): JobEvent => ({
  type: "running",
  ...base(job, region),
});

export const succeededEvent = (
  job: RegionJob,
  region: string,
  bytes: Uint8Array,
  gpuMs = 10,
  style: { embedding?: number[]; vector?: { space: string; values: number[] } } = {},
): JobEvent => ({
  type: "succeeded",
  ...base(job, region),
  started_at: new Date(Date.now() - 50).toISOString(),
  gpu_ms: gpuMs,
  execution_provider: "cpu",
  timings: { queue_ms: 5, inference_ms: gpuMs, encode_ms: 2, upload_ms: 1, batch_size: 1 },
  output: storedObjectOf(bytes),
  ...(style.embedding && {
    style_embedding: { descriptor: STYLE_DESCRIPTOR, values: style.embedding },
  }),
  ...(style.vector && { style_vector: style.vector }),
});

export const failedEvent = (
  job: RegionJob,
  region: string,
  retryable: boolean,
  code = "node_draining",
): JobEvent => ({
  type: "failed",
  ...base(job, region),
  error: { code, message: `job failed: ${code}` },
  retryable,
});

export const blockedEvent = (job: RegionJob, region: string): JobEvent => ({
  type: "blocked",
  ...base(job, region),
  started_at: new Date(Date.now() - 50).toISOString(),
  gpu_ms: 9,
  execution_provider: "cpu",
  timings: { queue_ms: 5, inference_ms: 9, encode_ms: 2, upload_ms: 1, batch_size: 1 },
  categories: ["porn"],
  scores: { drawing: 0.01, hentai: 0.02, neutral: 0.02, porn: 0.9, sexy: 0.05 },
  thresholds: { porn: 0.6, hentai: 0.7, sexy: null },
  classifier: "nsfwjs/MobileNetV2@4.4.0",
  quarantine_key: `quarantine/${"f".repeat(64)}.png`,
});
