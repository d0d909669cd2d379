import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { ErrorBody } from "../../contracts/errors.ts";
import {
  REGION_PATHS,
  type JobEvent,
  type RegionJob,
  type StoredObject,
} from "../../contracts/region-protocol.ts";
import { deriveRegionKeySet } from "../../contracts/region-keys.ts";
import { signRequest } from "../../contracts/signing.ts";

// Requests go through the Worker's real default export (the entry under test), inside workerd.

export const BASE = "https://edge.test";
export const bearer = (key: string = env.TEST_API_KEY) => ({ authorization: `Bearer ${key}` });

/** A client in Dublin: eu-west (overloaded in these tests) is its nearest region, us-east next. */
export const DUBLIN = { latitude: "53.35", longitude: "-6.26" };

export function edge(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(new URL(path, BASE), init));
}

export function createGeneration(
  body: object,
  headers: Record<string, string> = {},
): Promise<Response> {
  return edge("/v1/generations", {
    method: "POST",
    headers: { ...bearer(), "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    cf: DUBLIN,
  });
}

export async function generationOf(res: Response): Promise<Generation> {
  return Generation.parse(await res.json());
}

export async function errorOf(res: Response) {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return ErrorBody.parse(await res.json()).error;
}

export interface StandInView {
  jobs: RegionJob[];
  objectFetches: string[];
  unsigned: number;
  /** Job ids the edge told it to drop. */
  cancels: string[];
}

/** What a region stand-in (a real server in Node) has seen so far. */
export async function standIn(region: string): Promise<StandInView> {
  const res = await fetch(`${env.TEST_INSPECTOR_URL}/regions/${region}`);
  expect(res.status).toBe(200);
  return (await res.json()) as StandInView;
}

/** Polls a stand-in until it has received a job matching `match`. */
export async function jobFor(
  region: string,
  match: (job: RegionJob) => boolean,
  timeoutMs = 10_000,
): Promise<RegionJob> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const job = (await standIn(region)).jobs.find(match);
    if (job) return job;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${region} received no matching job in ${timeoutMs} ms`);
}

/**
 * Posts a JobEvent to the Worker the way a region does: signed with the event's region's key (each
 * derived from the run's development secret, as the Worker derives them).
 */
export async function postRegionEvent(
  event: JobEvent,
  secret = env.REGION_SIGNING_SECRET,
): Promise<Response> {
  const path = REGION_PATHS.events(event.region);
  const body = JSON.stringify(event);
  const key = (await deriveRegionKeySet(secret, event.region)).current;
  const signature = await signRequest(key, { method: "POST", path, body });
  return edge(path, {
    method: "POST",
    headers: { ...signature, "content-type": "application/json" },
    body,
  });
}

export function originObject(): { key: string; contentType: string; bytes: Uint8Array } {
  const { key, contentType, base64 } = JSON.parse(env.TEST_ORIGIN_OBJECT) as Record<string, string>;
  return {
    key: key!,
    contentType: contentType!,
    bytes: Uint8Array.from(atob(base64!), (c) => c.charCodeAt(0)),
  };
}

export async function storedObject(obj: {
  key: string;
  contentType: string;
  bytes: Uint8Array;
}): Promise<StoredObject> {
  const digest = await crypto.subtle.digest("SHA-256", obj.bytes);
  const sha256 = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
  return {
    key: obj.key,
    content_type: obj.contentType,
    width: 256,
    height: 256,
    bytes: obj.bytes.byteLength,
    sha256,
  };
}

/** The `running` then `succeeded` events a region sends for `job`, its output being `output`. */
export async function completeJob(
  job: RegionJob,
  region: string,
  output: StoredObject,
): Promise<void> {
  const base = { job_id: job.job_id, region, request_id: job.request_id };
  const startedAt = new Date().toISOString();
  const running = await postRegionEvent({ type: "running", ...base, at: startedAt });
  expect(running.status).toBe(200);
  const succeeded = await postRegionEvent({
    type: "succeeded",
    ...base,
    at: new Date().toISOString(),
    started_at: startedAt,
    gpu_ms: 18.5,
    execution_provider: "cpu",
    timings: { queue_ms: 2, inference_ms: 15, encode_ms: 2, upload_ms: 1, batch_size: 1 },
    output,
  });
  expect(succeeded.status).toBe(200);
}

const SAFE_WORDS = [
  "amber",
  "birch",
  "cedar",
  "delta",
  "ember",
  "fjord",
  "grove",
  "heron",
  "iris",
  "juniper",
  "kestrel",
  "lagoon",
  "maple",
  "nimbus",
  "orchid",
  "prairie",
];

/**
 * A phrase unique to one test run, made of harmless words: random hex or UUIDs in prompts can read
 * as leetspeak to prompt moderation and make a test fail by chance.
 */
export function uniquePhrase(words = 6): string {
  const picks = crypto.getRandomValues(new Uint8Array(words));
  return Array.from(picks, (b) => SAFE_WORDS[b % SAFE_WORDS.length]).join(" ");
}
