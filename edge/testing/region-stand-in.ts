import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  REGION_PATHS,
  RegionJob,
  TextStyleRequest,
  type JobEvent,
  type RegionConfig,
  type StoredObject,
} from "../../contracts/region-protocol.ts";
import { keySetLookup } from "../../contracts/region-keys.ts";
import { signRequest, verifyRequest } from "../../contracts/signing.ts";
import { testRegionKeySet } from "./region-keys.ts";
import { STYLE_DESCRIPTOR } from "../../contracts/style.ts";

// A tiny real HTTP server standing in for a regional node in edge tests: it checks the edge's
// signatures like a region does, answers as told, and posts signed events back.

export type StandInMode =
  /** `delayMs`: answer after this long (a slow intake, or a long round trip). */
  | { kind: "accept"; estimatedWaitMs?: number; delayMs?: number }
  | { kind: "busy"; status: 429 | 503; retryAfterS?: number }
  | { kind: "reject"; status: number }
  /** Accepts, then reports `running` and `succeeded` with a stored object of `bytes`. */
  | { kind: "complete"; bytes: Uint8Array; contentType?: string }
  /** Never answers (timeouts). */
  | { kind: "hang" };

export interface RegionStandIn {
  readonly config: RegionConfig;
  /** Jobs received with a valid signature, in order (whatever the answer). */
  readonly jobs: RegionJob[];
  /** Requests refused for a missing or bad signature. */
  readonly unsigned: number;
  /** Object fetches received (valid signature). */
  readonly objectFetches: string[];
  /** Texts of signed text-style calls (with `textStyle`). */
  readonly textQueries: string[];
  /** Keys the edge deleted (DELETE /v1/objects/:key: outputs removed after review). */
  readonly objectDeletes: string[];
  /** Job ids of signed POST /v1/jobs/:id/cancel calls (answered `canceled` for a known job). */
  readonly cancels: string[];
  /** Jobs received and not answered yet (a `delayMs` accept, or `hang`). */
  readonly unanswered: number;
  mode: StandInMode;
  /** Objects served on GET /v1/objects/:key. */
  readonly objects: Map<string, { bytes: Uint8Array; contentType: string }>;
  /** Signs and posts an event for `job` to its callback_url, like a region does. */
  postEvent(job: RegionJob, event: JobEvent): Promise<Response>;
  close(): Promise<void>;
}

export interface StandInOptions {
  name: string;
  lat: number;
  lon: number;
  /** The development secret its region key derives from (region-keys.ts), as the edge's does. */
  secret: string;
  mode?: StandInMode;
  /** Answers POST /v1/style/text-embedding with this embedding of the text (default: 404). */
  textStyle?: (text: string) => number[];
}

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

export function storedObjectOf(bytes: Uint8Array, contentType = "image/png"): StoredObject {
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return {
    key: `${sha256}.png`,
    content_type: contentType,
    width: 64,
    height: 64,
    bytes: bytes.byteLength,
    sha256,
  };
}

export async function startRegionStandIn(opts: StandInOptions): Promise<RegionStandIn> {
  const jobs: RegionJob[] = [];
  const objectFetches: string[] = [];
  const objectDeletes: string[] = [];
  const cancels: string[] = [];
  const textQueries: string[] = [];
  const objects = new Map<string, { bytes: Uint8Array; contentType: string }>();
  let unsigned = 0;
  const hanging = new Set<ServerResponse>();
  const keys = testRegionKeySet(opts.secret, opts.name);

  async function postEvent(job: RegionJob, event: JobEvent): Promise<Response> {
    const url = new URL(job.callback_url);
    const body = JSON.stringify(event);
    const headers = await signRequest(keys.current, { method: "POST", path: url.pathname, body });
    return fetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body,
    });
  }

  async function complete(job: RegionJob, bytes: Uint8Array, contentType: string): Promise<void> {
    const output = storedObjectOf(bytes, contentType);
    objects.set(output.key, { bytes, contentType });
    const base = { job_id: job.job_id, region: opts.name, request_id: job.request_id };
    const startedAt = new Date().toISOString();
    await postEvent(job, { type: "running", ...base, at: startedAt });
    await postEvent(job, {
      type: "succeeded",
      ...base,
      at: new Date().toISOString(),
      started_at: startedAt,
      gpu_ms: 12.5,
      execution_provider: "cpu",
      timings: { queue_ms: 1, inference_ms: 12, encode_ms: 2, upload_ms: 1, batch_size: 1 },
      output,
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(400, { "content-type": "text/plain" });
      res.end(String(err));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://stand-in");
    const verdict = await verifyRequest(
      keySetLookup(keys),
      { method: req.method ?? "GET", path: url.pathname, body },
      { get: (name) => req.headers[name.toLowerCase()] as string | undefined },
    );
    if (!verdict.ok) {
      unsigned += 1;
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unsigned"}');
      return;
    }
    if (req.method === "DELETE" && url.pathname.startsWith("/v1/objects/")) {
      // Like a real region (regional-gpu/http/objects-route.ts): deleting is idempotent.
      const key = decodeURIComponent(url.pathname.slice("/v1/objects/".length));
      objectDeletes.push(key);
      objects.delete(key);
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ key, deleted: true }));
      return;
    }
    if (req.method === "GET" && url.pathname.startsWith("/v1/objects/")) {
      const key = decodeURIComponent(url.pathname.slice("/v1/objects/".length));
      objectFetches.push(key);
      const object = objects.get(key);
      if (!object) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": object.contentType }).end(object.bytes);
      return;
    }
    const cancel = /^\/v1\/jobs\/([^/]+)\/cancel$/.exec(url.pathname);
    if (req.method === "POST" && cancel) {
      const jobId = decodeURIComponent(cancel[1]!);
      cancels.push(jobId);
      // Like a real region (regional-gpu/http): a job it never took is 404 job_not_found.
      if (!jobs.some((j) => j.job_id === jobId)) {
        const error = { type: "not_found_error", code: "job_not_found", message: "no such job" };
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error }));
        return;
      }
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ job_id: jobId, state: "canceled" }));
      return;
    }
    if (req.method === "POST" && url.pathname === REGION_PATHS.styleText && opts.textStyle) {
      const { text } = TextStyleRequest.parse(JSON.parse(body));
      textQueries.push(text);
      const answer = {
        embedding: { descriptor: STYLE_DESCRIPTOR, values: opts.textStyle(text) },
      };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
      return;
    }
    if (req.method !== "POST" || url.pathname !== REGION_PATHS.jobs)
      return void res.writeHead(404).end();
    const job = RegionJob.parse(JSON.parse(body));
    jobs.push(job);
    const mode = standIn.mode;
    switch (mode.kind) {
      case "hang":
        hanging.add(res);
        return;
      case "busy":
        res
          .writeHead(mode.status, {
            "content-type": "application/json",
            ...(mode.retryAfterS !== undefined && { "retry-after": String(mode.retryAfterS) }),
          })
          .end('{"error":{"type":"overloaded_error","code":"busy","message":"busy"}}');
        return;
      case "reject":
        res.writeHead(mode.status, { "content-type": "application/json" }).end('{"error":"no"}');
        return;
      case "accept":
      case "complete": {
        const estimated = mode.kind === "accept" ? (mode.estimatedWaitMs ?? 250) : 10;
        const delayMs = mode.kind === "accept" ? (mode.delayMs ?? 0) : 0;
        if (delayMs > 0) {
          hanging.add(res);
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          hanging.delete(res);
          if (res.destroyed) return;
        }
        res.writeHead(202, { "content-type": "application/json" }).end(
          JSON.stringify({
            job_id: job.job_id,
            region: opts.name,
            queue_position: 0,
            estimated_wait_ms: estimated,
          }),
        );
        if (mode.kind === "complete") {
          // After the answer, like a real region's worker loop.
          setTimeout(
            () => void complete(job, mode.bytes, mode.contentType ?? "image/png").catch(() => {}),
            20,
          );
        }
      }
    }
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const standIn: RegionStandIn = {
    config: { name: opts.name, endpoint: `http://127.0.0.1:${port}`, lat: opts.lat, lon: opts.lon },
    jobs,
    get unsigned() {
      return unsigned;
    },
    objectFetches,
    objectDeletes,
    cancels,
    textQueries,
    get unanswered() {
      return hanging.size;
    },
    mode: opts.mode ?? { kind: "accept" },
    objects,
    postEvent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return standIn;
}

/** A region config whose endpoint refuses connections (a port nothing listens on). */
export async function deadRegion(name: string, lat: number, lon: number): Promise<RegionConfig> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { name, endpoint: `http://127.0.0.1:${port}`, lat, lon };
}
