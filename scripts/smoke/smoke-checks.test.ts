import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { startEdge, type RunningEdge } from "../../edge/entry/node.ts";
import { TEST_SECRETS } from "../../edge/testing/edge-fixture.ts";
import { startRegionStandIn, type RegionStandIn } from "../../edge/testing/region-stand-in.ts";
import { seedAccount, seedModel, seedRegions } from "../../edge/testing/seed.ts";
import { runSmoke, SmokeFailure, type SmokeStep } from "./smoke-checks.ts";

// The smoke checks against a real Node edge (a region stand-in returns a real PNG), then against
// the same edge with one thing broken at a time: each break must fail the step that looks at it.
// test/e2e runs them against the whole local stack, on the Node edge and under `wrangler dev`.

let handle: PgliteHandle;
let region: RegionStandIn;
let edge: RunningEdge;
let dir: string;
let key: string;

beforeAll(async () => {
  handle = await createTestDatabase();
  const png = await sharp({
    create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 90, b: 120 } },
  })
    .png()
    .toBuffer();
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
    mode: { kind: "complete", bytes: new Uint8Array(png) },
  });
  await seedModel(handle.db);
  await seedRegions(handle.db, [region.config]);
  ({ key } = await seedAccount(handle.db));
  dir = await mkdtemp(join(tmpdir(), "smoke-"));
  edge = await startEdge({
    port: 0,
    db: handle.db,
    regions: [region.config],
    assetsDir: dir,
    secrets: TEST_SECRETS,
    environment: "development",
    log: () => {},
    env: {},
  });
});

afterAll(async () => {
  await edge?.close();
  await region?.close();
  await handle?.close();
  await rm(dir, { recursive: true, force: true });
});

/** `fetch`, with the answers to requests that `match` rewritten by `edit`. */
function tampered(
  match: (url: URL, headers: Headers) => boolean,
  edit: (res: Response) => Promise<Response> | Response,
): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const res = await fetch(input, init);
    return match(url, new Headers(init?.headers)) ? edit(res) : res;
  };
}

const isAsset = (url: URL) => url.pathname.startsWith("/v1/assets/");
const without = (res: Response, name: string) => {
  const headers = new Headers(res.headers);
  headers.delete(name);
  return new Response(res.body, { status: res.status, headers });
};

describe("runSmoke", () => {
  it("passes every step against a working edge", async () => {
    const steps: SmokeStep[] = [];
    const { generation } = await runSmoke({
      baseUrl: `${edge.url}/`,
      apiKey: key,
      timeoutMs: 20_000,
      onStep: (step) => steps.push(step),
    });
    expect(steps).toEqual([
      "health",
      "error envelope",
      "generation",
      "image",
      "image range",
      "image revalidation",
    ]);
    expect(generation).toMatchObject({ status: "succeeded", region: "eu-west" });
  });

  const breaks: Array<[string, SmokeStep, typeof fetch, RegExp]> = [
    [
      "an unhealthy edge",
      "health",
      tampered(
        (url) => url.pathname === "/healthz",
        (res) => new Response('{"ok":false}', { status: 503, headers: res.headers }),
      ),
      /answered 503/,
    ],
    [
      "a 401 outside the envelope",
      "error envelope",
      tampered(
        (url) => url.pathname === "/v1/generations",
        (res) =>
          res.status === 401
            ? new Response("unauthorized", { status: 401, headers: res.headers })
            : res,
      ),
      /not in the error envelope/,
    ],
    [
      "a submit without rate-limit headers",
      "generation",
      tampered(
        (url) => url.pathname === "/v1/generations",
        (res) => without(res, "ratelimit-remaining"),
      ),
      /no ratelimit-remaining header/,
    ],
    [
      "an image without its ETag",
      "image",
      tampered(isAsset, (res) => without(res, "etag")),
      /etag is missing/,
    ],
    [
      "an image whose bytes are not the output's",
      "image",
      tampered(isAsset, async (res) => {
        const bytes = new Uint8Array(await res.arrayBuffer());
        bytes[bytes.length - 1] = 0xff - bytes[bytes.length - 1]!;
        return new Response(bytes, { status: res.status, headers: res.headers });
      }),
      /do not hash to output.sha256/,
    ],
    [
      "an image without X-Request-Id",
      "image",
      tampered(isAsset, (res) => without(res, "x-request-id")),
      /without X-Request-Id/,
    ],
    [
      "an edge that ignores Range",
      "image range",
      tampered(
        (url, headers) => isAsset(url) && headers.has("range"),
        (res) => new Response("whole", { status: 200, headers: res.headers }),
      ),
      /answered 200, not 206/,
    ],
    [
      "an edge that ignores If-None-Match",
      "image revalidation",
      tampered(
        (url, headers) => isAsset(url) && headers.has("if-none-match"),
        (res) => new Response("again", { status: 200, headers: res.headers }),
      ),
      /answered 200, not 304/,
    ],
  ];

  it.each(breaks)("fails on %s, naming the step", async (_what, step, brokenFetch, reason) => {
    const run = runSmoke({ baseUrl: edge.url, apiKey: key, timeoutMs: 20_000, fetch: brokenFetch });
    const failure = await run.then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SmokeFailure);
    expect((failure as SmokeFailure).step).toBe(step);
    expect((failure as SmokeFailure).message).toMatch(reason);
  });

  it("fails the generation step on a key that cannot generate", async () => {
    await expect(
      runSmoke({ baseUrl: edge.url, apiKey: `gk_test_${"1".repeat(32)}`, timeoutMs: 5_000 }),
    ).rejects.toThrow(/generation: POST \/v1\/generations answered 401/);
  });
});

describe("npm run smoke", () => {
  const smoke = (args: string[], env: Record<string, string> = {}) =>
    promisify(execFile)(
      process.execPath,
      [fileURLToPath(new URL("../smoke.ts", import.meta.url)), ...args],
      { env: { ...process.env, SMOKE_API_KEY: "", ...env } },
    ).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it("lists each step and exits 0 against a working edge, the key from SMOKE_API_KEY", async () => {
    const { code, stdout } = await smoke([edge.url], { SMOKE_API_KEY: key });
    expect(code).toBe(0);
    expect(stdout).toMatch(/ok {2}health[\s\S]*ok {2}image revalidation[\s\S]*passed in/);
  });

  it("exits 1 naming the failed step, and 2 without a key", async () => {
    const failed = await smoke([edge.url, "--key", `gk_test_${"1".repeat(32)}`, "--timeout", "5"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/FAIL generation: POST \/v1\/generations answered 401/);
    const usage = await smoke([edge.url]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: npm run smoke/);
  });
});
