import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../app-env.ts";
import { signedAssetPath } from "../../assets/asset-url.ts";
import { MemoryResponseCache } from "../../assets/memory-response-cache.ts";
import { assetCacheKey } from "../../routes/assets.ts";
import { cachedAsset } from "./index.ts";

const SECRET = "s".repeat(64);
const KEY = `${"a".repeat(64)}.png`;
const BYTES = new TextEncoder().encode("pixels ".repeat(50));

/** The middleware first, then what stands for the chain: it counts what reached it. */
async function mount(opts: { held?: boolean } = {}) {
  const cache = new MemoryResponseCache({ maxBytes: 1 << 20 });
  if (opts.held !== false) {
    await cache.put(
      assetCacheKey(KEY, "http://edge.test/"),
      new Response(BYTES, {
        headers: {
          "content-type": "image/png",
          etag: `"${"a".repeat(64)}"`,
          "cache-control": "public, max-age=31536000, immutable",
        },
      }),
    );
  }
  const logs: Record<string, unknown>[] = [];
  let chain = 0;
  const app = new Hono<AppEnv>();
  app.use(
    "/v1/assets/*",
    cachedAsset({
      responseCache: cache,
      environment: "production",
      assetUrlSecret: SECRET,
      clock: Date.now,
      log: (entry) => logs.push(entry),
    }),
  );
  app.use("*", async (c, next) => {
    chain += 1;
    await next();
  });
  app.get("/v1/assets/*", (c) => c.text("from the chain"));
  return { app, logs, chain: () => chain };
}

describe("cachedAsset", () => {
  it("answers a held asset without the chain: bytes, request id, security headers, log line", async () => {
    const { app, logs, chain } = await mount();
    const res = await app.request(`http://edge.test/v1/assets/${KEY}`, {
      headers: { "x-request-id": "caller-id-123" },
    });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(BYTES);
    expect(chain()).toBe(0);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      "content-type": "image/png",
      "cache-control": "public, max-age=31536000, immutable",
      "x-request-id": "caller-id-123",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "content-security-policy": expect.stringContaining("default-src 'none'"),
      "strict-transport-security": expect.stringContaining("max-age="),
    });
    expect(logs).toEqual([
      expect.objectContaining({
        msg: "request",
        request_id: "caller-id-123",
        path: `/v1/assets/${KEY}`,
        status: 200,
      }),
    ]);

    // A signed URL with a good signature: the same.
    const signed = await signedAssetPath(KEY, SECRET, Date.now());
    expect((await app.request(`http://edge.test${signed}`)).status).toBe(200);
    expect(chain()).toBe(0);
  });

  it.each([
    ["a range", { range: "bytes=0-3" }],
    ["a validator", { "if-none-match": '"x"' }],
    ["If-Range", { "if-range": '"x"' }],
    ["an Origin (CORS)", { origin: "https://app.example" }],
    ["an API key", { authorization: "Bearer gk_live_whatever" }],
  ])("leaves a request with %s to the chain", async (_what, headers) => {
    const { app, chain, logs } = await mount();
    expect(await (await app.request(`http://edge.test/v1/assets/${KEY}`, { headers })).text()).toBe(
      "from the chain",
    );
    expect(chain()).toBe(1);
    expect(logs).toEqual([]);
  });

  it("leaves misses, bad signatures, odd keys and other methods to the chain", async () => {
    const { app, chain } = await mount({ held: false });
    await app.request(`http://edge.test/v1/assets/${KEY}`);
    expect(chain()).toBe(1);
    const held = await mount();
    const signed = await signedAssetPath(KEY, SECRET, Date.now());
    const tampered = signed.slice(0, -1) + (signed.endsWith("0") ? "1" : "0");
    await held.app.request(`http://edge.test${tampered}`);
    await held.app.request(`http://edge.test/v1/assets/${KEY}?exp=1&sig=00`);
    await held.app.request(`http://edge.test/v1/assets/..%2F${KEY}`);
    await held.app.request(`http://edge.test/v1/assets/quarantine/${KEY}`);
    await held.app.request(`http://edge.test/v1/assets/${KEY}`, { method: "HEAD" });
    expect(held.chain()).toBe(5);
  });
});
