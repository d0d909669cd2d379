import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Generation } from "../../contracts/api.ts";
import { signedAssetPath } from "../../edge/assets/asset-url.ts";
import {
  bearer,
  completeJob,
  createGeneration,
  edge,
  errorOf,
  generationOf,
  jobFor,
  originObject,
  standIn,
  storedObject,
  uniquePhrase,
} from "./helpers.ts";

// GET /v1/assets/:key on workerd: the real R2 binding as the edge store, the origin region behind it.

const origin = originObject();
let output: NonNullable<Generation["output"]>;

async function originFetches(): Promise<number> {
  return (await standIn("us-east")).objectFetches.filter((k) => k === origin.key).length;
}

async function untilInR2(key: string): Promise<void> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
    if (await env.ASSETS.head(key)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${key} never reached R2`);
}

beforeAll(async () => {
  const res = await createGeneration({
    prompt: `asset ${uniquePhrase()}`,
    seed: 3,
    width: 256,
    height: 256,
  });
  const { id } = await generationOf(res);
  await completeJob(
    await jobFor("us-east", (j) => j.job_id === id),
    "us-east",
    await storedObject(origin),
  );
  const done = await generationOf(await edge(`/v1/generations/${id}`, { headers: bearer() }));
  expect(done.status).toBe("succeeded");
  output = done.output!;
});

describe("Worker entry: GET /v1/assets/:key", () => {
  it("serves an object already in R2 without asking the origin region", async () => {
    await env.ASSETS.put(origin.key, origin.bytes, {
      httpMetadata: { contentType: origin.contentType },
    });
    const before = await originFetches();
    const res = await edge(output.url);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(origin.bytes);
    expect(res.headers.get("etag")).toBe(`"${output.sha256}"`);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("cache-control")).toMatch(/max-age=31536000, immutable/);
    expect(await originFetches()).toBe(before);
  });

  it("fills R2 from the origin region on a miss, then serves from R2", async () => {
    await env.ASSETS.delete(origin.key);
    const before = await originFetches();
    const first = await edge(output.url);
    expect(first.status).toBe(200);
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(origin.bytes);
    expect(await originFetches()).toBe(before + 1);

    await untilInR2(origin.key);
    const stored = await env.ASSETS.get(origin.key);
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(origin.bytes);
    const second = await edge(output.url);
    expect(second.status).toBe(200);
    await second.arrayBuffer();
    expect(await originFetches()).toBe(before + 1);
  });

  it("answers Range with 206 and an unsatisfiable one with a 416 envelope", async () => {
    const partial = await edge(output.url, { headers: { range: "bytes=0-7" } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe(`bytes 0-7/${origin.bytes.byteLength}`);
    expect(new Uint8Array(await partial.arrayBuffer())).toEqual(origin.bytes.slice(0, 8));

    const suffix = await edge(output.url, { headers: { range: "bytes=-4" } });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(origin.bytes.slice(-4));

    const outside = await edge(output.url, { headers: { range: "bytes=100000-" } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get("content-range")).toBe(`bytes */${origin.bytes.byteLength}`);
    expect(await errorOf(outside)).toMatchObject({ code: "range_not_satisfiable" });
  });

  it("answers If-None-Match with 304 and no body", async () => {
    const res = await edge(output.url, { headers: { "if-none-match": `"${output.sha256}"` } });
    expect(res.status).toBe(304);
    expect(res.headers.get("etag")).toBe(`"${output.sha256}"`);
    expect(await res.text()).toBe("");
  });

  it("refuses tampered and expired signatures, and private assets without the owner's key", async () => {
    const tampered = await edge(
      output.url.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === "0" ? "1" : "0"}`),
    );
    expect(tampered.status).toBe(403);
    expect(await errorOf(tampered)).toMatchObject({
      type: "permission_error",
      code: "invalid_signature",
    });

    const longAgo = Date.now() - 30 * 24 * 3600 * 1000;
    const expired = await edge(
      await signedAssetPath(origin.key, env.ASSET_URL_SECRET, longAgo, 3600),
    );
    expect(expired.status).toBe(403);
    expect(await errorOf(expired)).toMatchObject({ code: "signed_url_expired" });

    const path = `/v1/assets/${origin.key}`;
    const anonymous = await edge(path);
    expect(anonymous.status).toBe(403);
    expect(await errorOf(anonymous)).toMatchObject({ type: "permission_error" });
    const owner = await edge(path, { headers: bearer() });
    expect(owner.status).toBe(200);
    expect(new Uint8Array(await owner.arrayBuffer())).toEqual(origin.bytes);
  });
});
