import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { createProject } from "../../db/queries/projects.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, succeededEvent } from "../testing/job-events.ts";
import { MapResponseCache } from "../testing/map-response-cache.ts";
import {
  startRegionStandIn,
  storedObjectOf,
  type RegionStandIn,
} from "../testing/region-stand-in.ts";
import { seedAccount } from "../testing/seed.ts";

let f: EdgeFixture;
let eu: RegionStandIn;
let now = Date.now();
const cache = new MapResponseCache();
let seq = 0;

beforeAll(async () => {
  eu = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({ regions: [eu.config], clock: () => now, responseCache: cache });
});
afterAll(async () => {
  await f.close();
  await eu.close();
});
beforeEach(() => {
  now = Date.now();
});

/** A succeeded generation whose PNG lives only in eu-west's object store (the origin). */
async function generated(opts: { project?: string; key?: string } = {}) {
  const bytes = new TextEncoder().encode(`image number ${++seq} `.repeat(20));
  const res = await f.call("/v1/generations", {
    method: "POST",
    json: { prompt: "harbour", ...(opts.project && { project: opts.project }) },
    ...(opts.key && { key: opts.key }),
  });
  expect(res.status).toBe(202);
  const job = eu.jobs.at(-1)!;
  const output = storedObjectOf(bytes);
  eu.objects.set(output.key, { bytes, contentType: "image/png" });
  await deliverEvent(f.app, TEST_SECRETS.regionSigning, succeededEvent(job, "eu-west", bytes));
  const gen = Generation.parse(
    await (await f.call(`/v1/generations/${job.job_id}`, opts.key ? { key: opts.key } : {})).json(),
  );
  const url = new URL(gen.output!.url);
  return {
    bytes,
    key: output.key,
    sha256: output.sha256,
    signedPath: url.pathname + url.search,
    path: url.pathname,
  };
}

describe("GET /v1/assets/:key", () => {
  it("serves a private asset on its signed URL: origin first, then the edge store", async () => {
    const a = await generated();
    const res = await f.call(a.signedPath, { key: null });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(a.bytes);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      "content-type": "image/png",
      etag: `"${a.sha256}"`,
      "cache-control": "private, max-age=31536000, immutable",
      "accept-ranges": "bytes",
      "content-length": String(a.bytes.byteLength),
    });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(eu.objectFetches).toEqual([a.key]);

    await f.tasks.drain(5_000);
    expect((await f.assets.head(a.key))?.size).toBe(a.bytes.byteLength);
    const again = await f.call(a.signedPath, { key: null });
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(a.bytes);
    expect(eu.objectFetches).toEqual([a.key]);
    // Private assets never enter the shared response cache.
    expect(cache.entries.size).toBe(0);
  });

  it("refuses a tampered or expired signature with 403", async () => {
    const a = await generated();
    const url = new URL(a.signedPath, "http://localhost");
    const sig = url.searchParams.get("sig")!;
    url.searchParams.set("sig", (sig[0] === "a" ? "b" : "a") + sig.slice(1));
    await expectError(
      await f.call(url.pathname + url.search, { key: null }),
      403,
      "permission_error",
      "invalid_signature",
    );
    const other = `/v1/assets/${"0".repeat(64)}.png${new URL(a.signedPath, "http://x").search}`;
    await expectError(
      await f.call(other, { key: null }),
      403,
      "permission_error",
      "invalid_signature",
    );
    await expectError(
      await f.call(`${a.path}?exp=1`, { key: null }),
      403,
      "permission_error",
      "invalid_signature",
    );

    now += 8 * 86_400_000;
    await expectError(
      await f.call(a.signedPath, { key: null }),
      403,
      "permission_error",
      "signed_url_expired",
    );
  });

  it("without a signature: the owner's key works; anonymous and other accounts get 403", async () => {
    const a = await generated();
    expect((await f.call(a.path)).status).toBe(200);
    await expectError(
      await f.call(a.path, { key: null }),
      403,
      "permission_error",
      "asset_private",
    );
    const stranger = await seedAccount(f.db);
    await expectError(
      await f.call(a.path, { key: stranger.key }),
      403,
      "permission_error",
      "asset_private",
    );
    await expectError(await f.call(a.path, { key: "gk_test_bad" }), 401, "authentication_error");
  });

  it("serves public-project assets to anyone, cacheable, through the response cache", async () => {
    const project = await createProject(f.db, {
      accountId: f.owner.account.id,
      name: "gallery",
      visibility: "public",
    });
    const a = await generated({ project: project.id });
    const res = await f.call(a.path, { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    await f.tasks.drain(5_000);
    expect(cache.entries.has(`http://localhost${a.path}`)).toBe(true);

    const hitsBefore = cache.hits;
    const fromCache = await f.call(a.path, { key: null, headers: { range: "bytes=0-4" } });
    expect(cache.hits).toBe(hitsBefore + 1);
    expect(fromCache.status).toBe(206);
    expect(new Uint8Array(await fromCache.arrayBuffer())).toEqual(a.bytes.slice(0, 5));
    expect(eu.objectFetches.filter((k) => k === a.key)).toHaveLength(1);

    // A plain anonymous GET is answered before the middleware chain, with the headers it sets.
    const plain = await f.call(a.path, { key: null });
    expect(cache.hits).toBe(hitsBefore + 2);
    expect(new Uint8Array(await plain.arrayBuffer())).toEqual(a.bytes);
    expect(plain.headers.get("x-request-id")).toMatch(/^req_/);
    for (const name of ["etag", "cache-control", "x-content-type-options", "x-frame-options"]) {
      expect(plain.headers.get(name)).toBe(res.headers.get(name));
    }
  });

  it("honours Range (206), unsatisfiable ranges (416) and If-None-Match (304)", async () => {
    const a = await generated();
    const size = a.bytes.byteLength;
    const partial = await f.call(a.path, { headers: { range: "bytes=10-19" } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe(`bytes 10-19/${size}`);
    expect(partial.headers.get("content-length")).toBe("10");
    expect(new Uint8Array(await partial.arrayBuffer())).toEqual(a.bytes.slice(10, 20));

    const suffix = await f.call(a.path, { headers: { range: "bytes=-5" } });
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(a.bytes.slice(size - 5));

    const outside = await f.call(a.path, { headers: { range: `bytes=${size}-` } });
    await expectError(outside, 416, "invalid_request_error", "range_not_satisfiable");
    expect(outside.headers.get("content-range")).toBe(`bytes */${size}`);

    const notModified = await f.call(a.path, { headers: { "if-none-match": `"${a.sha256}"` } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(`"${a.sha256}"`);
    expect(await notModified.text()).toBe("");

    const stale = await f.call(a.path, { headers: { "if-none-match": '"something-else"' } });
    expect(stale.status).toBe(200);

    // If-Range with another validator: the full body, not a fragment of a different one.
    const ifRange = await f.call(a.path, { headers: { range: "bytes=0-1", "if-range": '"old"' } });
    expect(ifRange.status).toBe(200);
  });

  it("answers HEAD with headers only", async () => {
    const a = await generated();
    const res = await f.call(a.path, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe(`"${a.sha256}"`);
    expect(await res.text()).toBe("");
  });

  it("answers 404 for unknown, malformed and quarantined keys", async () => {
    await expectError(
      await f.call(`/v1/assets/${"1".repeat(64)}.png`),
      404,
      "not_found_error",
      "asset_not_found",
    );
    await expectError(await f.call("/v1/assets/..%2F..%2Fetc%2Fpasswd"), 404, "not_found_error");
    await expectError(
      await f.call("/v1/assets/quarantine/abc.png"),
      404,
      "not_found_error",
      "asset_not_found",
    );
  });

  it("answers 503 when the origin region is unreachable and the edge has no copy", async () => {
    const a = await generated();
    eu.objects.delete(a.key);
    await expectError(await f.call(a.path), 404, "not_found_error", "asset_not_found");
    const dead = await generated();
    await eu.close(); // last test: afterAll's close of a closed stand-in is a no-op
    const res = await f.call(dead.path);
    await expectError(res, 503, "overloaded_error", "origin_unavailable");
    expect(res.headers.get("retry-after")).toBe("5");
  });
});
