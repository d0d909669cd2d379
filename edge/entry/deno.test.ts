import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { ErrorBody } from "../../contracts/errors.ts";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import { startWireGateway, type WireGateway } from "../../db/local/wire-gateway.ts";
import { upsertModelVersion } from "../../db/queries/models.ts";
import { createProject } from "../../db/queries/projects.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { startRegion, type RunningRegion } from "../../regional-gpu/region.ts";
import { referenceModel } from "../../regional-gpu/testing/reference-model.ts";
import { freePort } from "../../scripts/local-stack/free-port.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { ASSETS_PATH } from "../assets/asset-url.ts";
import { TEST_SECRETS } from "../testing/edge-fixture.ts";
import { testRegionKey } from "../testing/region-keys.ts";
import { seedAccount, seedRegions } from "../testing/seed.ts";

// Smoke test of the Deno entry: `deno run edge/entry/deno.ts` (the binary of the `deno` npm
// package) against a real regional node (ONNX reference model, on-disk object store) and this
// test's PGlite, which the Deno process reaches over the Postgres wire (db/local/wire-gateway.ts).

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DENO = join(ROOT, "node_modules/.bin/deno");

let dir: string;
let handle: PgliteHandle;
let gateway: WireGateway | undefined;
let region: RunningRegion | undefined;
let deno: ChildProcess | undefined;
let exited: Promise<number | null>;
let output = "";
let edgeUrl: string;
let key: string;
let publicKey: string;
let publicProject: string;

/** The Deno binary with `args`, everything of its own kept in this run's folder. */
function spawnDeno(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(DENO, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      // Deno's own caches (and its Cache API storage).
      DENO_DIR: join(dir, "deno"),
      // No look-up of a newer Deno release: the run touches no network but loopback.
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** `deno run edge/entry/deno.ts` with the permissions of `npm run start:deno`, on this run's folder. */
const spawnDenoEdge = (env: Record<string, string>) =>
  spawnDeno(
    [
      "run",
      // Everything comes from node_modules: fail rather than fetch anything.
      "--cached-only",
      "--allow-net",
      "--allow-env",
      `--allow-read=${ROOT},${dir}`,
      `--allow-write=${dir}`,
      "edge/entry/deno.ts",
    ],
    env,
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-deno-"));
  const model = await referenceModel();
  handle = await createTestDatabase();
  const { manifest } = model;
  await upsertModelVersion(handle.db, {
    model: manifest.name,
    version: manifest.version,
    sha256: manifest.sha256,
    uri: pathToFileURL(join(model.modelsDir, manifest.name, manifest.version, manifest.file)).href,
    bytes: manifest.bytes,
    pipeline: manifest.pipeline,
    status: "default",
    gpuMsPerMegapixel: manifest.gpu_ms_per_megapixel,
    pricePerMegapixelMicrousd: 40,
    manifest,
  });

  // The region learns the edge's URL before the edge starts: heartbeats go there.
  const edgePort = await freePort();
  edgeUrl = `http://127.0.0.1:${edgePort}`;
  region = await startRegion({
    regionName: "eu-west",
    port: 0,
    signingKey: testRegionKey(TEST_SECRETS.regionSigning, "eu-west"),
    edgeUrl,
    modelDir: model.modelsDir,
    warmModels: [model.ref],
    objectStore: { kind: "file", dir: join(dir, "region-objects") },
    executionProvider: "cpu",
    heartbeatIntervalMs: 500,
    logLevel: "silent",
  });
  const regionConfig: RegionConfig = {
    name: "eu-west",
    endpoint: region.url,
    lat: 53.35,
    lon: -6.26,
  };
  await seedRegions(handle.db, [regionConfig]);
  ({ key } = await seedAccount(handle.db));
  const owner = await seedAccount(handle.db);
  publicKey = owner.key;
  publicProject = (
    await createProject(handle.db, {
      accountId: owner.account.id,
      name: "Gallery",
      visibility: "public",
    })
  ).id;

  // From here on the database is used only through the gateway (see its doc).
  gateway = await startWireGateway(handle.db.$client);
  deno = spawnDenoEdge({
    EDGE_PORT: String(edgePort),
    DATABASE_URL: gateway.postgresUrl,
    // The gateway runs every connection on one PGlite session: one connection, no interleaving.
    DATABASE_MAX_CONNECTIONS: "1",
    REGIONS: JSON.stringify([regionConfig]),
    REGION_SIGNING_SECRET: TEST_SECRETS.regionSigning,
    ASSET_URL_SECRET: TEST_SECRETS.assetUrl,
    ENVIRONMENT: "development",
    EDGE_ASSETS_DIR: join(dir, "edge-assets"),
  });
  exited = new Promise((resolve) => deno!.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "edge listening" in 60 s:\n${output}`)),
      60_000,
    );
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (/"edge listening"/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    deno!.stdout!.on("data", collect);
    deno!.stderr!.on("data", collect);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`deno exited (${code}) before listening:\n${output}`));
    });
  });
}, 120_000);

afterAll(async () => {
  if (deno && deno.exitCode === null) {
    deno.kill("SIGKILL");
    await exited;
  }
  await region?.close();
  await gateway?.close();
  await handle?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

async function generate(apiKey: string, body: Record<string, unknown>) {
  const res = await fetch(`${edgeUrl}/v1/generations`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/json",
      prefer: "wait=30",
    },
    body: JSON.stringify(body),
  });
  const json: unknown = await res.json();
  expect(res.status, `${JSON.stringify(json)}\n${output}`).toBe(200);
  const gen = Generation.parse(json);
  expect(gen.status, JSON.stringify(gen)).toBe("succeeded");
  return gen;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe("the edge under Deno", () => {
  it("answers /healthz and hears the region's heartbeats", async () => {
    await expect
      .poll(
        async () => {
          const health = (await (await fetch(`${edgeUrl}/healthz`)).json()) as {
            ok: boolean;
            regions: { name: string; health: string }[];
          };
          return health.ok && health.regions[0]?.health;
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe("healthy");
  });

  it("generates through the real region and serves the image it stored", async () => {
    const gen = await generate(key, { prompt: "a quiet harbour at dawn", width: 64, height: 64 });
    expect(gen.region).toBe("eu-west");
    expect(gen.cost.gpu_ms).toBeGreaterThan(0);
    const out = gen.output!;
    expect(out.content_type).toBe("image/png");

    const asset = await fetch(out.url);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toBe("image/png");
    expect(asset.headers.get("etag")).toBe(`"${out.sha256}"`);
    const bytes = new Uint8Array(await asset.arrayBuffer());
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(bytes.byteLength).toBe(out.bytes);
    expect(sha256(bytes)).toBe(out.sha256);
  }, 60_000);

  it("keeps public assets in Deno's Cache API", async () => {
    // A fresh seed: a new content-addressed key, not yet in any store or cache.
    const gen = await generate(publicKey, {
      prompt: "a lighthouse in fog",
      width: 64,
      height: 64,
      seed: Math.floor(Math.random() * 2 ** 32),
      project: publicProject,
    });
    const { pathname } = new URL(gen.output!.url);
    const assetKey = decodeURIComponent(pathname.slice(`${ASSETS_PATH}/`.length));
    const first = await fetch(`${edgeUrl}${pathname}`);
    expect(first.status).toBe(200);
    const bytes = new Uint8Array(await first.arrayBuffer());
    // Once the edge has filled its store in the background, take the object out of both stores:
    // only the Cache API can answer then.
    const edgeStore = new FsObjectStore(join(dir, "edge-assets"));
    const regionStore = new FsObjectStore(join(dir, "region-objects"));
    await expect.poll(() => edgeStore.head(assetKey), { timeout: 10_000 }).not.toBeNull();
    await edgeStore.delete(assetKey);
    await regionStore.delete(assetKey);
    expect(await regionStore.head(assetKey)).toBeNull();
    await expect
      .poll(async () => (await fetch(`${edgeUrl}${pathname}`)).status, { timeout: 10_000 })
      .toBe(200);
    const cached = await fetch(`${edgeUrl}${pathname}`);
    expect(new Uint8Array(await cached.arrayBuffer())).toEqual(bytes);
    expect(cached.headers.get("content-type")).toBe("image/png");
  }, 60_000);

  it("lets cached responses expire by their max-age, as the Workers cache does", async () => {
    // expiringCache over Deno's real Cache API, with a clock the script moves.
    const script = `
      import { expiringCache } from "./edge/entry/deno.ts";
      let now = 0;
      const cache = expiringCache(await caches.open("expiry-test"), () => now);
      const req = new Request("http://edge.test/v1/assets/a.png");
      const put = (cc) => cache.put(req, new Response("x", { headers: { "cache-control": cc } }));
      const hit = async () => (await cache.match(req)) !== undefined;
      const seen = [];
      await put("public, max-age=300");
      now = 299_999; seen.push(await hit());
      now = 300_000; seen.push(await hit(), await hit());
      await put("private, max-age=300"); seen.push(await hit());
      await put("public, no-store"); seen.push(await hit());
      await put("public, max-age=600, s-maxage=60");
      now += 59_999; seen.push(await hit());
      now += 1; seen.push(await hit());
      console.log(JSON.stringify(seen));
    `;
    const child = spawnDeno(["eval", "--cached-only", script]);
    let out = "";
    child.stdout!.on("data", (chunk) => (out += chunk));
    child.stderr!.on("data", (chunk) => (out += chunk));
    expect(await new Promise((resolve) => child.on("exit", resolve)), out).toBe(0);
    expect(JSON.parse(out)).toEqual([true, false, false, false, false, true, false]);
  });

  it("serves the playground and the dashboard with their files", async () => {
    for (const path of ["/", "/dashboard"]) {
      const res = await fetch(`${edgeUrl}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-security-policy")).toMatch(/script-src 'nonce-/);
      const src = /<script src="([^"]+)"/.exec(await res.text())?.[1];
      const file = await fetch(`${edgeUrl}${src}`);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toMatch(/^text\/javascript/);
      await file.body?.cancel();
    }
  });

  it("answers errors in the API envelope", async () => {
    const res = await fetch(`${edgeUrl}/v1/generations`, {
      headers: { authorization: `Bearer gk_test_${"0".repeat(32)}` },
    });
    expect(res.status).toBe(401);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toMatch(/^req_/);
    const body = ErrorBody.parse(await res.json());
    expect(body.error).toMatchObject({ type: "authentication_error", request_id: requestId });
  });

  it("exits 1 with the reason on a bad configuration", async () => {
    const child = spawnDenoEdge({ REGION_SIGNING_SECRET: TEST_SECRETS.regionSigning });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("edge: no regions");
  });

  it("is production by default: without its secrets it exits 1 naming them", async () => {
    const regions = [{ name: "eu-west", endpoint: "http://127.0.0.1:9", lat: 53.35, lon: -6.26 }];
    const child = spawnDenoEdge({ REGIONS: JSON.stringify(regions) });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    for (const name of [
      "REGION_SIGNING_KEYS",
      "ASSET_URL_SECRET",
      "WEBHOOK_SECRETS_KEY",
      "PUBLIC_URL",
    ]) {
      expect(stderr).toContain(name);
    }
  });

  it("stops cleanly on SIGTERM", async () => {
    deno!.kill("SIGTERM");
    expect(await exited, output).toBe(0);
    expect(output).toContain('"edge stopped"');
    // Prompts never reach the logs; nothing went to stderr as an uncaught error.
    expect(output).not.toContain("a quiet harbour");
    expect(output).not.toMatch(/Uncaught|error: /);
  });
});
