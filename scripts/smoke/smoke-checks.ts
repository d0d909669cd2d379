import { createHash } from "node:crypto";
import { Generation } from "../../contracts/api.ts";
import { ErrorBody } from "../../contracts/errors.ts";

// The smoke test of a deployed (or local) edge through its public API, as a consumer would use it:
// the edge is up, errors come in the envelope, a generation runs on a GPU region and its image comes
// back through the asset route with the caching headers of API.md. Each step either passes or
// throws a SmokeFailure that names it and says what was wrong.

export interface SmokeOptions {
  /** The edge's origin, e.g. https://genart-edge-staging.example.workers.dev */
  baseUrl: string;
  /** A key of an account allowed to generate; a test-mode key (gk_test_) is never charged. */
  apiKey: string;
  /** How long the generation may take, queueing and cold start included. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Told each passed step and its duration. */
  onStep?: (step: SmokeStep, ms: number) => void;
}

export type SmokeStep =
  "health" | "error envelope" | "generation" | "image" | "image range" | "image revalidation";

export class SmokeFailure extends Error {
  override readonly name = "SmokeFailure";
  readonly step: SmokeStep;
  constructor(step: SmokeStep, message: string) {
    super(`${step}: ${message}`);
    this.step = step;
  }
}

export interface SmokeResult {
  generation: Generation;
  ms: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PROMPT = "a quiet harbour at dawn, teal and amber";

export async function runSmoke(opts: SmokeOptions): Promise<SmokeResult> {
  const http = opts.fetch ?? fetch;
  const base = opts.baseUrl.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const started = performance.now();
  const step = async <T>(name: SmokeStep, run: (fail: (m: string) => never) => Promise<T>) => {
    const at = performance.now();
    const fail = (message: string): never => {
      throw new SmokeFailure(name, message);
    };
    let result: T;
    try {
      result = await run(fail);
    } catch (error) {
      if (error instanceof SmokeFailure) throw error;
      throw new SmokeFailure(name, (error as Error).message);
    }
    opts.onStep?.(name, performance.now() - at);
    return result;
  };
  const call = (path: string, init: RequestInit = {}) =>
    http(new URL(path, `${base}/`), { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const auth = { authorization: `Bearer ${opts.apiKey}` };

  await step("health", async (fail) => {
    const res = await call("/healthz");
    expectRequestId(res, fail);
    if (res.status !== 200) fail(`GET /healthz answered ${res.status}`);
    const body = (await res.json()) as { ok?: unknown };
    if (body.ok !== true) fail(`GET /healthz said ${JSON.stringify(body)}`);
  });

  await step("error envelope", async (fail) => {
    const res = await call("/v1/generations", {
      headers: { authorization: `Bearer gk_test_${"0".repeat(32)}` },
    });
    const requestId = expectRequestId(res, fail);
    if (res.status !== 401) fail(`an unknown key was answered ${res.status}, not 401`);
    const parsed = ErrorBody.safeParse(await res.json().catch(() => null));
    if (!parsed.success) fail("the 401 is not in the error envelope");
    const { error } = parsed.data!;
    if (error.type !== "authentication_error") fail(`error type ${error.type}`);
    if (error.request_id !== requestId) fail("error.request_id differs from X-Request-Id");
  });

  const generation = await step("generation", async (fail) => {
    const res = await call("/v1/generations", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", prefer: "wait=60" },
      // `cache: false`: the job runs on a GPU instead of coming from the dedup cache. A fixed seed,
      // not a random one: a random one now and then drew an image the output moderation flags
      // (a false positive, seen in CI), which would fail the smoke for nothing.
      body: JSON.stringify({ prompt: PROMPT, width: 256, height: 256, seed: 42, cache: false }),
    });
    expectRequestId(res, fail);
    const json: unknown = await res.json().catch(() => null);
    if (res.status !== 200 && res.status !== 202) {
      fail(`POST /v1/generations answered ${res.status}: ${JSON.stringify(json)}`);
    }
    for (const name of ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"]) {
      if (!res.headers.has(name)) fail(`no ${name} header on the submit`);
    }
    let gen = parseGeneration(json, fail);
    const deadline = started + timeoutMs;
    while (!isTerminal(gen.status)) {
      if (performance.now() > deadline) fail(`${gen.id} still ${gen.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const again = await call(`/v1/generations/${gen.id}`, { headers: auth });
      if (again.status !== 200) fail(`GET /v1/generations/${gen.id} answered ${again.status}`);
      gen = parseGeneration(await again.json(), fail);
    }
    if (gen.status !== "succeeded" || !gen.output) {
      fail(`${gen.id} ended ${gen.status}: ${JSON.stringify(gen.error)}`);
    }
    if (!gen.region) fail(`${gen.id} succeeded without a region`);
    return gen;
  });
  const output = generation.output!;
  const etag = `"${output.sha256}"`;
  // The image through the edge under test: output.url starts with the edge's PUBLIC_URL, which for
  // a preview version is the deployed one's. The signature covers the path, not the host.
  const signed = new URL(output.url, `${base}/`);
  const imagePath = `${signed.pathname}${signed.search}`;

  await step("image", async (fail) => {
    const res = await call(imagePath);
    expectRequestId(res, fail);
    if (res.status !== 200) fail(`GET output.url answered ${res.status}`);
    expectHeader(res, "content-type", output.content_type, fail);
    expectHeader(res, "etag", etag, fail);
    expectHeader(res, "accept-ranges", "bytes", fail);
    const cacheControl = res.headers.get("cache-control") ?? "";
    if (!/max-age=\d+/.test(cacheControl)) fail(`Cache-Control "${cacheControl}" has no max-age`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength !== output.bytes) {
      fail(`${bytes.byteLength} bytes, output.bytes says ${output.bytes}`);
    }
    if (createHash("sha256").update(bytes).digest("hex") !== output.sha256) {
      fail("the bytes do not hash to output.sha256");
    }
    if (PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) fail("not a PNG");
  });

  await step("image range", async (fail) => {
    const res = await call(imagePath, { headers: { range: "bytes=0-7" } });
    if (res.status !== 206) fail(`Range: bytes=0-7 answered ${res.status}, not 206`);
    expectHeader(res, "content-range", `bytes 0-7/${output.bytes}`, fail);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length !== 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
      fail("the first 8 bytes are not the PNG signature");
    }
  });

  await step("image revalidation", async (fail) => {
    const res = await call(imagePath, { headers: { "if-none-match": etag } });
    await res.body?.cancel();
    if (res.status !== 304) fail(`If-None-Match with the ETag answered ${res.status}, not 304`);
  });

  return { generation, ms: performance.now() - started };
}

const isTerminal = (status: Generation["status"]) => status !== "queued" && status !== "running";

function parseGeneration(json: unknown, fail: (m: string) => never): Generation {
  const parsed = Generation.safeParse(json);
  if (!parsed.success) fail(`not a Generation: ${JSON.stringify(json)?.slice(0, 300)}`);
  return parsed.data!;
}

function expectRequestId(res: Response, fail: (m: string) => never): string {
  const id = res.headers.get("x-request-id");
  if (!id) fail(`${res.status} answer without X-Request-Id`);
  return id!;
}

function expectHeader(res: Response, name: string, want: string, fail: (m: string) => never) {
  const got = res.headers.get(name);
  if (got !== want) fail(`${name} is ${got === null ? "missing" : `"${got}"`}, expected "${want}"`);
}
