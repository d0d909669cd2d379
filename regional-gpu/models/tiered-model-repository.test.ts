import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import { createS3Client } from "../../storage/s3.ts";
import { createLogger } from "../log.ts";
import { startModelHttpServer, type ModelHttpServer } from "../testing/model-http-server.ts";
import { corruptFile, writeModelVersion } from "../testing/model-versions.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { ModelDiskCache } from "./disk-cache.ts";
import { HttpModelStore } from "./http-model-store.ts";
import { ModelChecksumError, ModelStoreUnreachableError } from "./model-errors.ts";
import { ModelPoolEvents } from "./model-pool-events.ts";
import type { RemoteModelStore } from "./remote-model-store.ts";
import { S3ModelStore } from "./s3-model-store.ts";
import { TieredModelRepository } from "./tiered-model-repository.ts";

// The warm and cold tiers on real parts: a loopback HTTP store, s3rver, and a cache folder.

let model: TestModel;
let dir: string;
/** The published store: versions v1, v2, v3 of the reference model. */
let published: string;
let manifests: Record<string, ModelManifest>;
let server: ModelHttpServer;
const opened: { close(): Promise<void> }[] = [];
const logger = createLogger({ level: "silent" });
const NAME = "cppn-glove";

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "tiered-repo-"));
  published = join(dir, "published");
  manifests = {};
  for (const v of ["v1", "v2", "v3"]) manifests[v] = await writeModelVersion(model, published, v);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

async function repository(
  store: RemoteModelStore,
  opts: { cacheDir?: string; maxBytes?: number; stallMs?: number } = {},
) {
  const events = new ModelPoolEvents();
  const cache = new ModelDiskCache({
    dir: opts.cacheDir ?? (await mkdtemp(join(dir, "cache-"))),
    maxBytes: opts.maxBytes ?? 2 ** 30,
    logger,
    events,
  });
  await cache.open();
  const repo = new TieredModelRepository({
    store,
    cache,
    logger,
    events,
    stallTimeoutMs: opts.stallMs ?? 5_000,
  });
  opened.push(repo);
  return { repo, cache, events };
}

async function httpStore(stallMs = 5_000) {
  server = await startModelHttpServer(published);
  opened.push(server);
  return new HttpModelStore({ baseUrl: server.url, timeoutMs: stallMs });
}

const filesIn = async (folder: string) => (await readdir(folder)).sort();

describe("TieredModelRepository over HTTP", () => {
  it("fetches a cold model once, then serves it from disk", async () => {
    const { repo, cache } = await repository(await httpStore());
    const manifest = (await repo.manifest(NAME, "v1"))!;
    expect(manifest.sha256).toBe(model.manifest.sha256);
    const first = await repo.materialize(manifest);
    first.release();
    expect(first.tier).toBe("store");
    expect(await filesIn(first.dir)).toEqual(["manifest.json", "model.onnx", "vocab.txt"]);
    expect(server.requests).toEqual([
      `${NAME}/v1/manifest.json`,
      `${NAME}/v1/model.onnx`,
      `${NAME}/v1/vocab.txt`,
    ]);

    const again = await repo.materialize((await repo.manifest(NAME, "v1"))!);
    again.release();
    expect(again.tier).toBe("disk");
    expect(server.requests).toHaveLength(3);
    expect(cache.stats()).toMatchObject({ entries: 1 });
    expect(cache.stats().bytes).toBeGreaterThan(manifest.bytes);
  });

  it("answers concurrent manifest lookups with one request, and remembers misses briefly", async () => {
    const { repo } = await repository(await httpStore());
    const all = await Promise.all(Array.from({ length: 8 }, () => repo.manifest(NAME, "v2")));
    expect(new Set(all.map((m) => m?.version))).toEqual(new Set(["v2"]));
    expect(server.requests).toEqual([`${NAME}/v2/manifest.json`]);
    expect(await repo.manifest(NAME, "nope")).toBeNull();
    expect(await repo.manifest(NAME, "nope")).toBeNull();
    expect(server.requests.filter((r) => r.includes("nope"))).toHaveLength(1);
    expect(await repo.manifest("../etc", "v1")).toBeNull();
  });

  it("detects a corrupted cached file, deletes it and fetches it again", async () => {
    const { repo, events } = await repository(await httpStore());
    const manifest = (await repo.manifest(NAME, "v1"))!;
    const { dir: folder, release } = await repo.materialize(manifest);
    release();
    await corruptFile(join(folder, "model.onnx"));
    const corrupt: string[] = [];
    events.on("corrupt", (e) => corrupt.push(`${e.ref} ${e.file}`));

    const healed = await repo.materialize(manifest);
    healed.release();
    expect(healed.tier).toBe("store");
    expect(corrupt).toEqual([`${NAME}@v1 model.onnx`]);
    expect(server.requests.filter((r) => r.endsWith("model.onnx"))).toHaveLength(2);
    const source = await readFile(join(published, NAME, "v1", "model.onnx"));
    expect((await readFile(join(folder, "model.onnx"))).equals(source)).toBe(true);
  });

  it("refuses bytes from the store that do not match the manifest, leaving nothing behind", async () => {
    const root = join(dir, "bad-store");
    const manifest = await writeModelVersion(model, root, "v1");
    await corruptFile(join(root, NAME, "v1", "model.onnx"));
    const bad = await startModelHttpServer(root);
    opened.push(bad);
    const { repo } = await repository(new HttpModelStore({ baseUrl: bad.url, timeoutMs: 5_000 }));
    await expect(repo.materialize(manifest)).rejects.toBeInstanceOf(ModelChecksumError);
    const folder = join(repo.diskStats().dir, NAME, "v1");
    expect((await filesIn(folder)).filter((f) => f.startsWith("model.onnx"))).toEqual([]);
  });

  it("keeps serving the disk tier when the store is down, and fails cold models fast", async () => {
    const { repo } = await repository(await httpStore());
    const v1 = (await repo.manifest(NAME, "v1"))!;
    const v2 = (await repo.manifest(NAME, "v2"))!;
    (await repo.materialize(v1)).release();
    await server.close();

    const cached = await repo.materialize(v1);
    cached.release();
    expect(cached.tier).toBe("disk");
    // v2's manifest is cached, its files are not: a cold load, with the store unreachable.
    expect(await repo.manifest(NAME, "v2")).toEqual(v2);
    const started = performance.now();
    const err = await repo.materialize(v2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelStoreUnreachableError);
    expect((err as ModelStoreUnreachableError).code).toBe("model_store_unreachable");
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    await expect(repo.manifest(NAME, "v3")).rejects.toBeInstanceOf(ModelStoreUnreachableError);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("gives up on a store that accepts requests and never answers, within the timeout", async () => {
    const { repo } = await repository(await httpStore(300), { stallMs: 300 });
    server.mode = "stall";
    const started = performance.now();
    await expect(repo.manifest(NAME, "v1")).rejects.toThrow(/unreachable/);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
    server.mode = "fail";
    await expect(repo.manifest(NAME, "v2")).rejects.toThrow(/answered 503/);
  });

  it("evicts least recently used versions from disk past its byte limit", async () => {
    const cacheDir = await mkdtemp(join(dir, "lru-"));
    // Room for two versions, not three.
    const limit = Math.floor(model.manifest.bytes * 2.5);
    const { repo, cache, events } = await repository(await httpStore(), {
      cacheDir,
      maxBytes: limit,
    });
    const evicted: string[] = [];
    events.on("evict", (e) => evicted.push(`${e.tier} ${e.ref}`));
    for (const v of ["v1", "v2", "v1", "v3"]) {
      (await repo.materialize((await repo.manifest(NAME, v))!)).release();
    }
    expect(evicted).toEqual([`disk ${NAME}@v2`]);
    expect(await filesIn(join(cacheDir, NAME))).toEqual(["v1", "v3"]);
    expect(cache.stats().bytes).toBeLessThanOrEqual(limit);

    // A restart finds the same entries, drops unfinished downloads, keeps the recency order.
    await writeFile(join(cacheDir, NAME, "v3", "model.onnx.abc.partial"), "half");
    const reopened = new ModelDiskCache({ dir: cacheDir, maxBytes: limit, logger });
    await reopened.open();
    expect(reopened.stats()).toMatchObject({ entries: 2, bytes: cache.stats().bytes });
    expect(await filesIn(join(cacheDir, NAME, "v3"))).not.toContain("model.onnx.abc.partial");
  });
});

describe("TieredModelRepository over S3", () => {
  let s3: S3rver;
  let s3dir: string;
  let endpoint: string;
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), "model-s3-"));
    s3 = new S3rver({
      address: "127.0.0.1",
      port: 0,
      silent: true,
      directory: s3dir,
      configureBuckets: [{ name: "models", configs: [] }],
    });
    endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    const client = createS3Client({ endpoint, forcePathStyle: true, credentials });
    for (const file of ["manifest.json", "model.onnx", "vocab.txt"]) {
      await client.send(
        new PutObjectCommand({
          Bucket: "models",
          Key: `published/${NAME}/v1/${file}`,
          Body: await readFile(join(published, NAME, "v1", file)),
        }),
      );
    }
    client.destroy();
  });
  afterAll(async () => {
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

  const s3Store = (at = endpoint) =>
    new S3ModelStore({
      bucket: "models",
      prefix: "published",
      client: createS3Client({ endpoint: at, forcePathStyle: true, credentials }),
    });

  it("streams a model from the bucket to disk, verified, then serves it from disk", async () => {
    const { repo } = await repository(s3Store());
    expect(repo.description).toBe("s3://models/published/");
    const manifest = (await repo.manifest(NAME, "v1"))!;
    expect(manifest).toEqual(manifests.v1);
    const first = await repo.materialize(manifest);
    first.release();
    expect(first.tier).toBe("store");
    expect(await filesIn(first.dir)).toEqual(["manifest.json", "model.onnx", "vocab.txt"]);
    const second = await repo.materialize(manifest);
    second.release();
    expect(second.tier).toBe("disk");
    expect(await repo.manifest(NAME, "v9")).toBeNull();
  });

  it("reports an unreachable bucket as such", async () => {
    // A port nothing listens on: take one from a server that has just closed.
    const gone = await startModelHttpServer(published);
    const url = new URL(gone.url);
    await gone.close();
    const { repo } = await repository(s3Store(`http://127.0.0.1:${url.port}`));
    const started = performance.now();
    await expect(repo.manifest(NAME, "v1")).rejects.toBeInstanceOf(ModelStoreUnreachableError);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
