import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { createProject } from "../../db/queries/projects.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { deliverEvent, succeededEvent } from "../testing/job-events.ts";
import {
  startRegionStandIn,
  storedObjectOf,
  type RegionStandIn,
} from "../testing/region-stand-in.ts";
import { readNodeEdgeEnv } from "../entry/node-config.ts";
import { MemoryResponseCache } from "./memory-response-cache.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";
const get = (path: string) => new Request(`http://edge.test${path}`);
const image = (bytes: Uint8Array<ArrayBuffer> | string, cacheControl = IMMUTABLE, status = 200) =>
  new Response(bytes, {
    status,
    headers: { "content-type": "image/png", etag: '"abc"', "cache-control": cacheControl },
  });

describe("MemoryResponseCache", () => {
  it("answers a stored response with its status, headers and bytes, by URL", async () => {
    const cache = new MemoryResponseCache({ maxBytes: 1 << 20 });
    const bytes = new TextEncoder().encode("pixels ".repeat(100));
    await cache.put(get("/v1/assets/a.png"), image(bytes));

    const hit = await cache.match(get("/v1/assets/a.png"));
    expect(hit?.status).toBe(200);
    expect(Object.fromEntries(hit!.headers)).toMatchObject({
      "content-type": "image/png",
      etag: '"abc"',
      "cache-control": IMMUTABLE,
    });
    const body = new Uint8Array(await hit!.arrayBuffer());
    expect(body).toEqual(bytes);
    // What a caller does with its copy does not reach the next one.
    body.fill(0);
    expect(
      new Uint8Array(await (await cache.match(get("/v1/assets/a.png")))!.arrayBuffer()),
    ).toEqual(bytes);
    expect(await cache.match(get("/v1/assets/b.png"))).toBeUndefined();
    expect(
      await cache.match(new Request("http://edge.test/v1/assets/a.png", { method: "HEAD" })),
    ).toBeUndefined();
  });

  it("keeps nothing private, no-store, without a max-age, or other than a 200", async () => {
    const cache = new MemoryResponseCache({ maxBytes: 1 << 20 });
    await cache.put(get("/p"), image("x", "private, max-age=31536000, immutable"));
    await cache.put(get("/n"), image("x", "public, no-store"));
    await cache.put(get("/z"), image("x", "public"));
    await cache.put(get("/0"), image("x", "public, max-age=0"));
    await cache.put(get("/r"), image("x", IMMUTABLE, 206));
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);

    // A newer answer that must not be kept also drops what was kept under its URL.
    await cache.put(get("/a"), image("x"));
    await cache.put(get("/a"), image("x", "private, max-age=60"));
    expect(await cache.match(get("/a"))).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it("honours max-age (s-maxage first) on the injected clock", async () => {
    let now = 1_000_000;
    const cache = new MemoryResponseCache({ maxBytes: 1 << 20, clock: () => now });
    await cache.put(get("/short"), image("x", "public, max-age=300"));
    await cache.put(get("/shared"), image("x", "public, max-age=5, s-maxage=60"));
    now += 299_999;
    expect(await cache.match(get("/short"))).toBeDefined();
    expect(await cache.match(get("/shared"))).toBeUndefined();
    now += 1;
    expect(await cache.match(get("/short"))).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it("stays within maxBytes, evicting the least recently used first", async () => {
    const body = "b".repeat(1000);
    const cache = new MemoryResponseCache({ maxBytes: 3_500, maxEntryBytes: 3_500 });
    for (const name of ["a", "b", "c"]) await cache.put(get(`/${name}`), image(body));
    expect(cache.size).toBe(3);
    await cache.match(get("/a")); // a is now the most recently used
    await cache.put(get("/d"), image(body));

    expect(cache.bytes).toBeLessThanOrEqual(3_500);
    expect(await cache.match(get("/b"))).toBeUndefined();
    for (const name of ["a", "c", "d"]) expect(await cache.match(get(`/${name}`))).toBeDefined();
  });

  it("does not keep a response larger than maxEntryBytes", async () => {
    const cache = new MemoryResponseCache({ maxBytes: 10_000, maxEntryBytes: 2_000 });
    await cache.put(get("/small"), image("s".repeat(1_000)));
    await cache.put(get("/big"), image("b".repeat(5_000)));
    expect(await cache.match(get("/big"))).toBeUndefined();
    expect(await cache.match(get("/small"))).toBeDefined();
  });
});

describe("EDGE_RESPONSE_CACHE_BYTES", () => {
  it("is a byte count: 0 for off, 64 MiB when unset", () => {
    const bytes = (value?: string) =>
      readNodeEdgeEnv({ EDGE_RESPONSE_CACHE_BYTES: value }).EDGE_RESPONSE_CACHE_BYTES;
    expect(bytes()).toBe(64 * 1024 * 1024);
    expect(bytes("")).toBe(64 * 1024 * 1024);
    expect(bytes("0")).toBe(0);
    expect(bytes("1048576")).toBe(1_048_576);
    expect(() => bytes("64MB")).toThrow(/EDGE_RESPONSE_CACHE_BYTES/);
  });
});

describe("the asset route over a MemoryResponseCache", () => {
  let f: EdgeFixture;
  let eu: RegionStandIn;
  const cache = new MemoryResponseCache({ maxBytes: 1 << 20 });

  beforeAll(async () => {
    eu = await startRegionStandIn({
      name: "eu-west",
      lat: 53.35,
      lon: -6.26,
      secret: TEST_SECRETS.regionSigning,
    });
    f = await createEdgeFixture({ regions: [eu.config], responseCache: cache });
  });
  afterAll(async () => {
    await f.close();
    await eu.close();
  });

  async function generated(project?: string) {
    const bytes = new TextEncoder().encode(`cached image ${project ?? "private"} `.repeat(20));
    const res = await f.call("/v1/generations", {
      method: "POST",
      json: { prompt: "harbour", ...(project && { project }) },
    });
    expect(res.status).toBe(202);
    const job = eu.jobs.at(-1)!;
    const output = storedObjectOf(bytes);
    eu.objects.set(output.key, { bytes, contentType: "image/png" });
    await deliverEvent(f.app, TEST_SECRETS.regionSigning, succeededEvent(job, "eu-west", bytes));
    const gen = Generation.parse(await (await f.call(`/v1/generations/${job.job_id}`)).json());
    const url = new URL(gen.output!.url);
    return { bytes, key: output.key, signedPath: url.pathname + url.search };
  }

  it("serves a public asset from memory once cached, without the store or the origin", async () => {
    const project = await createProject(f.db, {
      accountId: f.owner.account.id,
      name: "gallery",
      visibility: "public",
    });
    const a = await generated(project.id);
    expect((await f.call(a.signedPath, { key: null })).status).toBe(200);
    await f.tasks.drain(5_000);
    expect(cache.size).toBe(1);

    await f.assets.delete(a.key);
    eu.objects.delete(a.key);
    const hit = await f.call(a.signedPath, { key: null });
    expect(hit.status).toBe(200);
    expect(hit.headers.get("cache-control")).toBe(IMMUTABLE);
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(a.bytes);
    const partial = await f.call(a.signedPath, { key: null, headers: { range: "bytes=2-5" } });
    expect(partial.status).toBe(206);
    expect(new Uint8Array(await partial.arrayBuffer())).toEqual(a.bytes.slice(2, 6));
    expect(eu.objectFetches.filter((k) => k === a.key)).toHaveLength(1);
  });

  it("never holds a private asset", async () => {
    const before = cache.size;
    const a = await generated();
    expect((await f.call(a.signedPath, { key: null })).status).toBe(200);
    await f.tasks.drain(5_000);
    expect(cache.size).toBe(before);
  });
});
