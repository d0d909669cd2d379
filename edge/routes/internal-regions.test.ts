import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import type { Heartbeat, RegionJob } from "../../contracts/region-protocol.ts";
import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import { getRegion } from "../../db/queries/regions.ts";
import { createApp } from "../app.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import {
  blockedEvent,
  deliverEvent,
  failedEvent,
  runningEvent,
  succeededEvent,
} from "../testing/job-events.ts";
import { testRegionKey } from "../testing/region-keys.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";

const SECRET = TEST_SECRETS.regionSigning;
const PARIS = { "x-client-lat": "48.85", "x-client-lon": "2.35" };

let f: EdgeFixture;
let eu: RegionStandIn;
let us: RegionStandIn;
let ap: RegionStandIn;

beforeAll(async () => {
  eu = await startRegionStandIn({ name: "eu-west", lat: 53.35, lon: -6.26, secret: SECRET });
  us = await startRegionStandIn({ name: "us-east", lat: 39.04, lon: -77.49, secret: SECRET });
  ap = await startRegionStandIn({ name: "ap-southeast", lat: 1.35, lon: 103.82, secret: SECRET });
  f = await createEdgeFixture({ regions: [eu.config, us.config, ap.config] });
});
afterAll(async () => {
  await f.close();
  await Promise.all([eu, us, ap].map((s) => s.close()));
});
beforeEach(() => {
  for (const s of [eu, us, ap]) {
    s.mode = { kind: "accept" };
    s.jobs.length = 0;
  }
});

/** A generation dispatched to eu-west, with the job eu-west received. */
async function dispatched(): Promise<{ id: string; job: RegionJob }> {
  const res = await f.call("/v1/generations", {
    method: "POST",
    json: { prompt: "harbour" },
    headers: PARIS,
  });
  const gen = await res.json();
  expect(gen.region).toBe("eu-west");
  return { id: gen.id, job: eu.jobs.at(-1)! };
}
const row = (id: string) => getGeneration(f.db, id);

describe("POST /internal/regions/:region/events", () => {
  it("refuses unsigned and wrongly signed events with 401", async () => {
    const { job } = await dispatched();
    const path = REGION_PATHS.events("eu-west");
    const body = JSON.stringify(runningEvent(job, "eu-west"));
    await expectError(
      await f.app.request(path, { method: "POST", body }),
      401,
      "authentication_error",
      "signature_missing",
    );
    const bad = await signRequest(
      { id: "eu-west.dev", secret: "not-the-secret-0123456789" },
      { method: "POST", path, body },
    );
    await expectError(
      await f.app.request(path, { method: "POST", body, headers: bad }),
      401,
      "authentication_error",
    );
    expect((await row(job.job_id))?.status).toBe("queued");
  });

  it("refuses an event for another region's path, an unknown region and an unknown job", async () => {
    const { job } = await dispatched();
    const event = runningEvent(job, "eu-west");
    const path = REGION_PATHS.events("us-east");
    const body = JSON.stringify(event);
    const usKey = testRegionKey(SECRET, "us-east");
    const headers = await signRequest(usKey, { method: "POST", path, body });
    await expectError(
      await f.app.request(path, { method: "POST", body, headers }),
      400,
      "invalid_request_error",
      "region_mismatch",
    );
    // eu-west's own key does not open us-east's path.
    const euKey = testRegionKey(SECRET, "eu-west");
    const asEu = await signRequest(euKey, { method: "POST", path, body });
    await expectError(
      await f.app.request(path, { method: "POST", body, headers: asEu }),
      403,
      "permission_error",
      "key_not_for_region",
    );
    // No key of a region this edge does not know.
    await expectError(
      await deliverEvent(f.app, SECRET, runningEvent(job, "mars-1")),
      401,
      "authentication_error",
      "signature_unknown_key",
    );
    const ghost = { ...job, job_id: `gen_${"0".repeat(26)}` };
    await expectError(
      await deliverEvent(f.app, SECRET, runningEvent(ghost, "eu-west")),
      404,
      "not_found_error",
      "job_not_found",
    );
  });

  it("refuses a region's events about another region's job (403), whatever their type", async () => {
    const { id, job } = await dispatched();
    const bytes = new TextEncoder().encode("not from eu-west");
    for (const event of [runningEvent(job, "us-east"), succeededEvent(job, "us-east", bytes)]) {
      // Signed with us-east's genuine key, on us-east's path: only the job's region is wrong.
      await expectError(
        await deliverEvent(f.app, SECRET, event),
        403,
        "permission_error",
        "job_of_another_region",
      );
    }
    expect(await row(id)).toMatchObject({ status: "queued", region: "eu-west", assetKey: null });
  });

  it("running -> succeeded fills timings, output, GPU ms and actual cost; repeats change nothing", async () => {
    const { id, job } = await dispatched();
    const running = runningEvent(job, "eu-west");
    expect(await (await deliverEvent(f.app, SECRET, running)).json()).toEqual({
      ok: true,
      outcome: "applied",
    });
    const afterRunning = await row(id);
    expect(afterRunning).toMatchObject({ status: "running", startedAt: new Date(running.at) });
    expect(await (await deliverEvent(f.app, SECRET, running)).json()).toEqual({
      ok: true,
      outcome: "ignored",
    });

    const bytes = new TextEncoder().encode("an image");
    const succeeded = succeededEvent(job, "eu-west", bytes, 20.4);
    expect(await (await deliverEvent(f.app, SECRET, succeeded)).json()).toEqual({
      ok: true,
      outcome: "applied",
    });
    const done = await row(id);
    expect(done).toMatchObject({
      status: "succeeded",
      region: "eu-west",
      gpuMs: 20,
      // 20.4 GPU ms at 1 µUSD per ms, rounded up.
      costActualMicrousd: 21,
      assetKey: succeeded.type === "succeeded" ? succeeded.output.key : "",
      contentType: "image/png",
      bytes: bytes.byteLength,
      completedAt: new Date(succeeded.at),
      startedAt: afterRunning?.startedAt,
    });

    // Repeated and late events are harmless.
    for (const late of [succeeded, running, failedEvent(job, "eu-west", false)]) {
      expect(await (await deliverEvent(f.app, SECRET, late)).json()).toEqual({
        ok: true,
        outcome: "ignored",
      });
    }
    expect(await row(id)).toEqual(done);

    const gen = Generation.parse(await (await f.call(`/v1/generations/${id}`)).json());
    expect(gen).toMatchObject({ status: "succeeded", cost: { actual_usd: 0.000021, gpu_ms: 20 } });
    expect(gen.output).toMatchObject({
      content_type: "image/png",
      bytes: bytes.byteLength,
      width: 64,
      height: 64,
    });
  });

  it("a non-retryable failure fails the generation with the region's code", async () => {
    const { id, job } = await dispatched();
    await deliverEvent(f.app, SECRET, failedEvent(job, "eu-west", false, "inference_error"));
    expect(await row(id)).toMatchObject({
      status: "failed",
      error: { type: "api_error", code: "inference_error", message: "job failed: inference_error" },
    });
  });

  it("a blocked output blocks the generation, lists the categories and charges nothing", async () => {
    const { id, job } = await dispatched();
    expect(await (await deliverEvent(f.app, SECRET, blockedEvent(job, "eu-west"))).json()).toEqual({
      ok: true,
      outcome: "applied",
    });
    const gen = Generation.parse(await (await f.call(`/v1/generations/${id}`)).json());
    expect(gen).toMatchObject({
      status: "blocked",
      output: null,
      error: { type: "content_policy_violation", code: "output_blocked", categories: ["porn"] },
      cost: { actual_usd: null },
    });
    expect((await row(id))?.moderation).toMatchObject({
      output: { action: "blocked", categories: ["porn"] },
    });
    const late = succeededEvent(job, "eu-west", new Uint8Array([1]));
    expect(await (await deliverEvent(f.app, SECRET, late)).json()).toMatchObject({
      outcome: "ignored",
    });
  });

  it("a retryable failure re-dispatches to another region, up to the attempt limit", async () => {
    const { id, job } = await dispatched();
    const res = await deliverEvent(f.app, SECRET, failedEvent(job, "eu-west", true));
    expect(await res.json()).toEqual({ ok: true, outcome: "redispatched" });
    expect(us.jobs.map((j) => j.job_id)).toEqual([`${id}.2`]);
    expect(await row(id)).toMatchObject({ status: "queued", region: "us-east" });

    // The old region's repeat of its failure is stale now.
    expect(
      await (await deliverEvent(f.app, SECRET, failedEvent(job, "eu-west", true))).json(),
    ).toMatchObject({
      outcome: "ignored",
    });

    await deliverEvent(f.app, SECRET, failedEvent(us.jobs[0]!, "us-east", true));
    const third = [...eu.jobs, ...ap.jobs].find((j) => j.job_id === `${id}.3`);
    expect(third).toBeDefined();
    const thirdRegion = ap.jobs.includes(third!) ? "ap-southeast" : "eu-west";

    // Attempt 3 was the last: a further retryable failure fails the generation, refunded.
    await deliverEvent(f.app, SECRET, failedEvent(third!, thirdRegion, true));
    expect(await row(id)).toMatchObject({ status: "failed", error: { code: "region_lost" } });
    expect((await row(id))!.attempts.map((a) => [a.job_id, a.reason])).toEqual([
      [id, "handed_back"],
      [`${id}.2`, "handed_back"],
      [`${id}.3`, "handed_back"],
    ]);
    const gen = Generation.parse(await (await f.call(`/v1/generations/${id}`)).json());
    expect(gen.attempts.map((a) => a.region)).toEqual(["eu-west", "us-east", thirdRegion]);
  });

  it("a retryable failure with nowhere else to go waits for a region (the sweep offers it again)", async () => {
    const { id, job } = await dispatched();
    us.mode = { kind: "busy", status: 503 };
    ap.mode = { kind: "busy", status: 429 };
    await deliverEvent(f.app, SECRET, failedEvent(job, "eu-west", true));
    const waiting = await row(id);
    expect(waiting).toMatchObject({ status: "queued", region: null, jobId: null });
    expect(waiting!.attempts).toHaveLength(1);
    expect(waiting!.leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect(waiting!.routing?.candidates.map((c) => c.outcome)).toContain("busy");
  });
});

describe("POST /internal/regions/:region/heartbeat", () => {
  const beat = (region: string, over: Partial<Heartbeat> = {}): Heartbeat => ({
    region,
    node_id: `${region}-1`,
    at: new Date().toISOString(),
    ready: true,
    draining: false,
    queue_depth: { fast: 0, standard: 2, relax: 1 },
    in_flight: 1,
    capacity: 4,
    throughput_per_s: 3,
    warm_models: ["cppn-glove@2026-11-27.1"],
    failure_rate: 0,
    execution_provider: "cpu",
    ...over,
  });

  async function send(
    app: { request: typeof f.app.request },
    hb: unknown,
    region = "eu-west",
    secret = SECRET,
  ) {
    const path = REGION_PATHS.heartbeat(region);
    const body = JSON.stringify(hb);
    const headers = await signRequest(testRegionKey(secret, region), {
      method: "POST",
      path,
      body,
    });
    return app.request(path, { method: "POST", body, headers });
  }

  it("refuses unsigned heartbeats and validates the body", async () => {
    const path = REGION_PATHS.heartbeat("eu-west");
    await expectError(
      await f.app.request(path, { method: "POST", body: JSON.stringify(beat("eu-west")) }),
      401,
      "authentication_error",
    );
    await expectError(
      await send(f.app, { region: "eu-west" }),
      400,
      "invalid_request_error",
      "parameter_missing",
    );
    await expectError(
      await send(f.app, beat("us-east")),
      400,
      "invalid_request_error",
      "region_mismatch",
    );
  });

  it("takes a heartbeat's freshness from its signed time, not its arrival", async () => {
    const path = REGION_PATHS.heartbeat("ap-southeast");
    const body = JSON.stringify({
      ...beat("ap-southeast"),
      at: new Date(Date.now() - 20_000).toISOString(),
    });
    // Signed 20 s ago (inside the signature's tolerance, past the 15 s heartbeat TTL): held back
    // in transit, it must not make the region look alive.
    const key = testRegionKey(SECRET, "ap-southeast");
    const headers = await signRequest(key, { method: "POST", path, body }, Date.now() - 20_000);
    expect(await (await f.app.request(path, { method: "POST", body, headers })).json()).toEqual({
      ok: true,
      status: "down",
    });
    const health = await (await f.call("/healthz", { key: null })).json();
    expect(health.regions.find((r: { name: string }) => r.name === "ap-southeast")).toMatchObject({
      health: "stale",
    });
  });

  it("feeds the directory and the regions table", async () => {
    const res = await send(f.app, beat("eu-west"));
    expect(await res.json()).toEqual({ ok: true, status: "healthy" });
    const health = await (await f.call("/healthz", { key: null })).json();
    expect(health.regions.find((r: { name: string }) => r.name === "eu-west")).toMatchObject({
      health: "healthy",
      queue_depth: { fast: 0, standard: 2, relax: 1 },
    });
    await f.tasks.drain(5_000);
    const stored = await getRegion(f.db, "eu-west");
    expect(stored).toMatchObject({ status: "healthy", heartbeat: { node_id: "eu-west-1" } });
    expect(stored?.lastHeartbeatAt).toBeInstanceOf(Date);
  });

  it("a draining region is skipped by routing, here and (through the table) in other isolates", async () => {
    await send(f.app, beat("eu-west", { draining: true }));
    await f.tasks.drain(5_000);
    const res = await f.call("/v1/generations", {
      method: "POST",
      json: { prompt: "p" },
      headers: PARIS,
    });
    expect((await res.json()).region).toBe("us-east");
    expect(eu.jobs).toHaveLength(0);

    const other = createApp({
      db: f.db,
      assets: f.assets,
      regions: [eu.config, us.config, ap.config],
      secrets: TEST_SECRETS,
      publicUrl: "http://localhost",
      environment: "development",
      log: () => {},
    });
    const viaOther = await other.request("/v1/generations", {
      method: "POST",
      body: JSON.stringify({ prompt: "p" }),
      headers: { ...PARIS, authorization: `Bearer ${f.owner.key}` },
    });
    expect((await viaOther.json()).region).toBe("us-east");

    // Back, and idle: routing weighs queue wait too, and us-east is only ~80 ms farther.
    const idle = { queue_depth: { fast: 0, standard: 0, relax: 0 }, in_flight: 0 };
    await send(f.app, beat("eu-west", idle));
    const back = await f.call("/v1/generations", {
      method: "POST",
      json: { prompt: "p" },
      headers: PARIS,
    });
    expect((await back.json()).region).toBe("eu-west");
  });
});
