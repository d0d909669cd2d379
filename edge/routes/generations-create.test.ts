import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { revokeApiKey } from "../../db/queries/api-keys.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import { createProject } from "../../db/queries/projects.ts";
import { createApp } from "../app.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, runningEvent, succeededEvent } from "../testing/job-events.ts";
import { deadRegion, startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { seedAccount, TEST_MODEL } from "../testing/seed.ts";

const PARIS = { "x-client-lat": "48.85", "x-client-lon": "2.35" };
const CHICAGO = { "x-client-lat": "41.88", "x-client-lon": "-87.63" };
const TOKYO = { "x-client-lat": "35.68", "x-client-lon": "139.69" };

let f: EdgeFixture;
let us: RegionStandIn;
let eu: RegionStandIn;
let ap: RegionStandIn;

beforeAll(async () => {
  const secret = TEST_SECRETS.regionSigning;
  us = await startRegionStandIn({ name: "us-east", lat: 39.04, lon: -77.49, secret });
  eu = await startRegionStandIn({ name: "eu-west", lat: 53.35, lon: -6.26, secret });
  ap = await startRegionStandIn({ name: "ap-southeast", lat: 1.35, lon: 103.82, secret });
  f = await createEdgeFixture({ regions: [us.config, eu.config, ap.config] });
});
afterAll(async () => {
  await f.close();
  await Promise.all([us, eu, ap].map((s) => s.close()));
});
beforeEach(() => {
  for (const s of [us, eu, ap]) {
    s.mode = { kind: "accept" };
    s.jobs.length = 0;
  }
});

const create = (json: unknown, headers: Record<string, string> = PARIS, key?: string | null) =>
  f.call("/v1/generations", { method: "POST", json, headers, ...(key !== undefined && { key }) });

describe("POST /v1/generations: bad input gets the documented 4xx envelope", () => {
  it("malformed JSON -> 400 invalid_json", async () => {
    const res = await f.call("/v1/generations", {
      method: "POST",
      body: '{"prompt": ',
      headers: { "content-type": "application/json" },
    });
    await expectError(res, 400, "invalid_request_error", "invalid_json");
  });

  it.each([
    {
      name: "unknown field",
      body: { prompt: "a", size: 3 },
      code: "unknown_parameter",
      param: "size",
    },
    {
      name: "width too large",
      body: { prompt: "a", width: 4096 },
      code: "parameter_out_of_range",
      param: "width",
    },
    {
      name: "height too small",
      body: { prompt: "a", height: 0 },
      code: "parameter_out_of_range",
      param: "height",
    },
    {
      name: "width not a multiple of 64",
      body: { prompt: "a", width: 500 },
      code: "invalid_parameter",
      param: "width",
    },
    {
      name: "prompt too long",
      body: { prompt: "x".repeat(2001) },
      code: "prompt_too_long",
      param: "prompt",
    },
    { name: "prompt missing", body: {}, code: "parameter_missing", param: "prompt" },
    {
      name: "malformed model",
      body: { prompt: "a", model: "Not A Model!" },
      code: "invalid_format",
      param: "model",
    },
  ])("$name -> 400 $code", async ({ body, code, param }) => {
    const error = await expectError(await create(body), 400, "invalid_request_error", code);
    expect(error.param).toBe(param);
  });

  it("a body over 64 KiB -> 413", async () => {
    const body = JSON.stringify({ prompt: "a", metadata: { k: "x".repeat(70_000) } });
    const res = await f.call("/v1/generations", { method: "POST", body });
    await expectError(res, 413, "invalid_request_error", "body_too_large");
  });

  it("missing, wrong and revoked keys -> 401 (before the body is looked at)", async () => {
    await expectError(
      await create({ prompt: "a" }, PARIS, null),
      401,
      "authentication_error",
      "missing_api_key",
    );
    await expectError(
      await create("{", PARIS, "gk_live_nope"),
      401,
      "authentication_error",
      "malformed_api_key",
    );
    await expectError(
      await create({ prompt: "a" }, PARIS, `gk_test_${"Z".repeat(32)}`),
      401,
      "authentication_error",
      "invalid_api_key",
    );
    const other = await seedAccount(f.db);
    await revokeApiKey(f.db, other.account.id, other.apiKey.id);
    await expectError(
      await create({ prompt: "a" }, PARIS, other.key),
      401,
      "authentication_error",
      "revoked_api_key",
    );
  });

  it("unknown model or version -> 400 model_not_found; another account's project -> 400", async () => {
    const e1 = await expectError(
      await create({ prompt: "a", model: "dall-e" }),
      400,
      "invalid_request_error",
      "model_not_found",
    );
    expect(e1.param).toBe("model");
    await expectError(
      await create({ prompt: "a", model: "cppn-glove@1999" }),
      400,
      "invalid_request_error",
      "model_not_found",
    );
    const stranger = await seedAccount(f.db);
    const theirs = await createProject(f.db, { accountId: stranger.account.id, name: "theirs" });
    const e2 = await expectError(
      await create({ prompt: "a", project: theirs.id }),
      400,
      "invalid_request_error",
      "project_not_found",
    );
    expect(e2.param).toBe("project");
    expect(eu.jobs).toHaveLength(0);
  });
});

describe("POST /v1/generations: accepting and routing", () => {
  it("writes the row, dispatches a signed job to the nearest region and answers 202", async () => {
    const res = await create({
      prompt: "a quiet harbour at dawn",
      width: 256,
      height: 128,
      metadata: { run: "1" },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const gen = Generation.parse(await res.json());
    expect(res.headers.get("location")).toBe(`/v1/generations/${gen.id}`);
    expect(gen).toMatchObject({
      status: "queued",
      model: TEST_MODEL.name,
      model_version: TEST_MODEL.version,
      region: "eu-west",
      params: { width: 256, height: 128, priority: "standard" },
      metadata: { run: "1" },
      queue: { estimated_wait_ms: 250 },
      output: null,
      urls: { self: `/v1/generations/${gen.id}` },
    });
    expect(gen.params.seed).toBeGreaterThanOrEqual(0);
    expect(gen.params.seed).toBeLessThanOrEqual(0xffffffff);
    // 40 ms/MP x 0.032768 MP = 1.31 GPU ms at 1 µUSD per ms, rounded up.
    expect(gen.cost).toEqual({ estimated_usd: 0.000002, actual_usd: null, gpu_ms: null });

    expect(eu.unsigned).toBe(0);
    expect(eu.jobs).toHaveLength(1);
    expect(eu.jobs[0]).toMatchObject({
      job_id: gen.id,
      account_id: f.owner.account.id,
      prompt: "a quiet harbour at dawn",
      width: 256,
      height: 128,
      seed: gen.params.seed,
      model_version: TEST_MODEL.version,
      request_id: res.headers.get("x-request-id"),
      callback_url: "http://localhost/internal/regions/eu-west/events",
    });
    const row = await getGeneration(f.db, gen.id);
    expect(row).toMatchObject({ status: "queued", region: "eu-west", apiKeyId: f.owner.apiKey.id });
    expect(row?.routedAt).toBeInstanceOf(Date);
  });

  it.each([
    ["Europe", "eu-west", PARIS],
    ["the US", "us-east", CHICAGO],
    ["Asia", "ap-southeast", TOKYO],
  ])("routes a client in %s to %s", async (_, region, headers) => {
    // cache: false, or the three identical requests would merge into the first one's job.
    const gen = await (await create({ prompt: "x", seed: 1, cache: false }, headers)).json();
    expect(gen.region).toBe(region);
  });

  it("ignores the x-client-* headers in production", async () => {
    const prod = createApp({
      db: f.db,
      assets: f.assets,
      regions: [us.config, eu.config, ap.config],
      secrets: TEST_SECRETS,
      publicUrl: "http://localhost",
      environment: "production",
      log: () => {},
    });
    const res = await prod.request("/v1/generations", {
      method: "POST",
      body: JSON.stringify({ prompt: "x" }),
      headers: { ...TOKYO, authorization: `Bearer ${f.owner.key}` },
    });
    // No request.cf on Node: configuration order, not the header's Tokyo.
    expect((await res.json()).region).toBe("us-east");
  });

  it("keeps explicit seed, priority, project and a pinned model version", async () => {
    const project = await createProject(f.db, { accountId: f.owner.account.id, name: "mine" });
    const res = await create({
      prompt: "p",
      seed: 42,
      priority: "fast",
      project: project.id,
      model: `cppn-glove@${TEST_MODEL.version}`,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      params: { seed: 42, priority: "fast" },
      project: project.id,
    });
    expect(eu.jobs[0]).toMatchObject({
      seed: 42,
      priority: "fast",
      project_id: project.id,
      moderation: { strictness: "standard" },
    });
  });

  it("carries the project's output-moderation policy to the region", async () => {
    const strict = await createProject(f.db, {
      accountId: f.owner.account.id,
      name: "strict",
      moderationPolicy: { strictness: "strict" },
    });
    await create({ prompt: "p", project: strict.id });
    await create({ prompt: "p" });
    expect(eu.jobs[0]?.moderation).toEqual({ strictness: "strict" });
    expect(eu.jobs[1]).not.toHaveProperty("moderation");
  });

  it("fails over to the next-nearest region when the nearest answers 503", async () => {
    eu.mode = { kind: "busy", status: 503, retryAfterS: 2 };
    const res = await create({ prompt: "failover" });
    expect(res.status).toBe(202);
    const gen = await res.json();
    expect(gen.region).toBe("us-east");
    expect(eu.jobs).toHaveLength(1);
    expect(us.jobs.map((j) => j.job_id)).toEqual([gen.id]);
  });

  it("all regions busy -> 503 overloaded_error with Retry-After, and the row is failed", async () => {
    eu.mode = { kind: "busy", status: 503, retryAfterS: 4 };
    us.mode = { kind: "busy", status: 429, retryAfterS: 6 };
    ap.mode = { kind: "busy", status: 503 };
    const res = await create({ prompt: "nobody home" });
    await expectError(res, 503, "overloaded_error", "no_region_available");
    expect(res.headers.get("retry-after")).toBe("4");
    const [failed] = (await (await f.call("/v1/generations?status=failed&limit=1")).json()).data;
    expect(failed).toMatchObject({
      prompt: "nobody home",
      status: "failed",
      error: { type: "overloaded_error", code: "no_region_available" },
    });
    expect(failed.completed_at).not.toBeNull();
    expect([eu, us, ap].map((s) => s.jobs.length)).toEqual([1, 1, 1]);
  });

  it("all regions unreachable -> 503 with Retry-After, and the row is failed", async () => {
    const down = await Promise.all([
      deadRegion("us-east", 39.04, -77.49),
      deadRegion("eu-west", 53.35, -6.26),
    ]);
    const isolated = createApp({
      db: f.db,
      assets: f.assets,
      regions: down,
      secrets: TEST_SECRETS,
      publicUrl: "http://localhost",
      environment: "development",
      log: () => {},
    });
    const res = await isolated.request("/v1/generations", {
      method: "POST",
      body: JSON.stringify({ prompt: "everything is down" }),
      headers: { ...PARIS, authorization: `Bearer ${f.owner.key}` },
    });
    await expectError(res, 503, "overloaded_error", "no_region_available");
    expect(res.headers.get("retry-after")).toBe("5");
    const [failed] = (await (await f.call("/v1/generations?status=failed&limit=1")).json()).data;
    expect(failed).toMatchObject({ prompt: "everything is down", status: "failed", region: null });
    expect(failed.error.message).toContain("eu-west: unreachable");
  });

  it("a region refusing the job outright -> 500 api_error, row failed, no other region tried", async () => {
    eu.mode = { kind: "reject", status: 422 };
    const res = await create({ prompt: "refused" });
    await expectError(res, 500, "api_error", "region_rejected_job");
    expect(us.jobs).toHaveLength(0);
    const id = eu.jobs[0]!.job_id;
    expect(await getGeneration(f.db, id)).toMatchObject({
      status: "failed",
      error: { code: "region_rejected_job" },
    });
  });
});

describe("POST /v1/generations: Idempotency-Key", () => {
  it("replays the same generation for the same body (200), whatever the key order", async () => {
    const headers = { ...PARIS, "idempotency-key": "order-1" };
    const first = await create({ prompt: "same", width: 128, seed: 5 }, headers);
    expect(first.status).toBe(202);
    const again = await create({ seed: 5, width: 128, prompt: "same" }, headers);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await again.json()).id).toBe((await first.json()).id);
    expect(eu.jobs).toHaveLength(1);
  });

  it("refuses the same key with a different body (409)", async () => {
    const headers = { ...PARIS, "idempotency-key": "order-2" };
    await create({ prompt: "one" }, headers);
    await expectError(
      await create({ prompt: "two" }, headers),
      409,
      "idempotency_error",
      "idempotency_key_reused",
    );
  });

  it("keys are per account", async () => {
    const other = await seedAccount(f.db);
    const headers = { ...PARIS, "idempotency-key": "shared-key" };
    const mine = await (await create({ prompt: "mine" }, headers)).json();
    const theirs = await create({ prompt: "theirs" }, headers, other.key);
    expect(theirs.status).toBe(202);
    expect((await theirs.json()).id).not.toBe(mine.id);
  });

  it("refuses a malformed key", async () => {
    await expectError(
      await create({ prompt: "a" }, { "idempotency-key": "has spaces in it" }),
      400,
      "invalid_request_error",
      "invalid_idempotency_key",
    );
  });
});

describe("POST /v1/generations: Prefer: wait", () => {
  it("holds until the region reports a terminal state, then answers 200 with the output", async () => {
    const pending = create({ prompt: "wait for me" }, { ...PARIS, prefer: "wait=10" });
    await expect.poll(() => eu.jobs.length).toBe(1);
    const job = eu.jobs[0]!;
    const bytes = new TextEncoder().encode("png bytes");
    expect(
      (await deliverEvent(f.app, TEST_SECRETS.regionSigning, runningEvent(job, "eu-west"))).status,
    ).toBe(200);
    expect(
      (await deliverEvent(f.app, TEST_SECRETS.regionSigning, succeededEvent(job, "eu-west", bytes)))
        .status,
    ).toBe(200);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get("preference-applied")).toBe("wait=10");
    const gen = Generation.parse(await res.json());
    expect(gen.status).toBe("succeeded");
    expect(gen.output?.url).toMatch(
      /^http:\/\/localhost\/v1\/assets\/[0-9a-f]{64}\.png\?exp=\d+&sig=[0-9a-f]{64}$/,
    );
  });

  it("answers 202 with the current state when the wait runs out", async () => {
    const started = performance.now();
    const res = await create({ prompt: "slow" }, { ...PARIS, prefer: "wait=1" });
    expect(res.status).toBe(202);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect((await res.json()).status).toBe("queued");
  });

  it("sees an event applied in another isolate through the database", async () => {
    const other = createApp({
      db: f.db,
      assets: f.assets,
      regions: [us.config, eu.config, ap.config],
      secrets: TEST_SECRETS,
      publicUrl: "http://localhost",
      environment: "development",
      log: () => {},
    });
    const pending = create({ prompt: "cross isolate" }, { ...PARIS, prefer: "wait=10" });
    await expect.poll(() => eu.jobs.length).toBe(1);
    const job = eu.jobs[0]!;
    await deliverEvent(
      other,
      TEST_SECRETS.regionSigning,
      succeededEvent(job, "eu-west", new Uint8Array([1, 2, 3])),
    );
    const res = await pending;
    expect(res.status).toBe(200);
    expect((await res.json()).status).toBe("succeeded");
  });
});
