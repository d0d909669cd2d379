import { testRegionKey } from "../testing/region-keys.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER } from "../../contracts/signing.ts";
import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import { API_CSP, HSTS } from "../middleware/security-headers/index.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, runningEvent, succeededEvent } from "../testing/job-events.ts";
import {
  startRegionStandIn,
  storedObjectOf,
  type RegionStandIn,
} from "../testing/region-stand-in.ts";

// The edge's HTTP policy on the real app: CORS for the public API only, security headers on every
// answer (errors included), 413 before any body is buffered, and logs free of secrets and prompts.

let f: EdgeFixture;
let prod: EdgeFixture;
let eu: RegionStandIn;

beforeAll(async () => {
  eu = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({ regions: [eu.config] });
  prod = await createEdgeFixture({ regions: [eu.config], environment: "production" });
});
afterAll(async () => {
  await f?.close();
  await prod?.close();
  await eu?.close();
});

describe("CORS", () => {
  it("answers a preflight for /v1/* from any origin with Authorization allowed, no credentials", async () => {
    const res = await f.call("/v1/generations", {
      method: "OPTIONS",
      key: null,
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, idempotency-key",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
    expect(res.headers.get("access-control-allow-headers")).toMatch(/Idempotency-Key/);
    expect(res.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("exposes the request id and rate-limit headers on actual /v1 responses, errors included", async () => {
    const res = await f.call("/v1/generations/gen_x", { headers: { origin: "https://a.example" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toMatch(/X-Request-Id/);
    expect(res.headers.get("access-control-expose-headers")).toMatch(/Retry-After/);
  });

  it("never grants CORS on /internal/* or /healthz", async () => {
    for (const path of [REGION_PATHS.heartbeat("eu-west"), "/healthz"]) {
      const res = await f.call(path, {
        method: "OPTIONS",
        key: null,
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    }
  });
});

describe("security headers", () => {
  const expectHardened = (res: Response) =>
    expect({
      nosniff: res.headers.get("x-content-type-options"),
      frame: res.headers.get("x-frame-options"),
      referrer: res.headers.get("referrer-policy"),
      csp: res.headers.get("content-security-policy"),
    }).toEqual({ nosniff: "nosniff", frame: "DENY", referrer: "no-referrer", csp: API_CSP });

  it("are on successes, errors and unknown routes alike; HSTS only in production", async () => {
    for (const res of [
      await f.call("/healthz"),
      await f.call("/v1/generations", { key: null }),
      await f.call("/nope"),
    ]) {
      expectHardened(res);
      expect(res.headers.get("strict-transport-security")).toBeNull();
    }
    for (const res of [await prod.call("/healthz"), await prod.call("/nope")]) {
      expectHardened(res);
      expect(res.headers.get("strict-transport-security")).toBe(HSTS);
    }
  });
});

describe("body size", () => {
  const huge = "x".repeat(70 * 1024);

  it("every route that reads a body answers 413 past the limit, declared or streamed", async () => {
    await expectError(
      await f.call("/v1/generations", {
        method: "POST",
        body: huge,
        headers: { "content-type": "application/json" },
      }),
      413,
      "invalid_request_error",
      "body_too_large",
    );
    const streamed = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 70; i++) c.enqueue(new Uint8Array(1024).fill(120));
        c.close();
      },
    });
    await expectError(
      await f.call("/v1/generations", {
        method: "POST",
        body: streamed,
        headers: { "content-type": "application/json" },
        duplex: "half",
      } as RequestInit),
      413,
      "invalid_request_error",
      "body_too_large",
    );
    for (const path of [REGION_PATHS.events("eu-west"), REGION_PATHS.heartbeat("eu-west")]) {
      const headers = await signRequest(testRegionKey(TEST_SECRETS.regionSigning, "eu-west"), {
        method: "POST",
        path,
        body: huge,
      });
      await expectError(
        await f.call(path, { method: "POST", key: null, body: huge, headers }),
        413,
        "invalid_request_error",
        "body_too_large",
      );
    }
  });
});

describe("logs", () => {
  it("a full request cycle logs no key, secret, signature or prompt", async () => {
    const prompt = "a very particular prompt about zanzibar marmalade";
    const res = await f.call("/v1/generations", {
      method: "POST",
      json: { prompt, negative_prompt: "soggy toast" },
    });
    expect(res.status).toBe(202);
    const job = eu.jobs.at(-1)!;
    const bytes = new TextEncoder().encode("secret pixels ".repeat(8));
    const output = storedObjectOf(bytes);
    eu.objects.set(output.key, { bytes, contentType: "image/png" });
    await deliverEvent(f.app, TEST_SECRETS.regionSigning, runningEvent(job, "eu-west"));
    await deliverEvent(f.app, TEST_SECRETS.regionSigning, succeededEvent(job, "eu-west", bytes));
    // A forged event too: its refusal must not log the bad signature either.
    await f.call(REGION_PATHS.events("eu-west"), {
      method: "POST",
      key: null,
      body: "{}",
      headers: {
        [SIGNATURE_HEADER]: "v1=forged-signature-value-123456",
        [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000)),
      },
    });
    const gen = Generation.parse(await (await f.call(`/v1/generations/${job.job_id}`)).json());
    const signed = new URL(gen.output!.url);
    expect((await f.call(signed.pathname + signed.search, { key: null })).status).toBe(200);
    await f.call("/v1/generations", { key: "sk_live_wrongwrongwrongwrongwrong" });
    await f.tasks.drain(5_000);

    const lines = f.logs.map((l) => JSON.stringify(l));
    expect(lines.length).toBeGreaterThan(5);
    const forbidden = [
      f.owner.key,
      "sk_live_wrongwrongwrongwrongwrong",
      TEST_SECRETS.regionSigning,
      TEST_SECRETS.assetUrl,
      "zanzibar marmalade",
      "soggy toast",
      signed.searchParams.get("sig")!,
      "forged-signature-value",
    ];
    for (const secret of forbidden) {
      expect(lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});
