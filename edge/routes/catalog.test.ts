import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelList, RegionList } from "../../contracts/api.ts";
import { upsertModelVersion } from "../../db/queries/models.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverHeartbeat, idleHeartbeat } from "../testing/heartbeats.ts";
import { TEST_MODEL } from "../testing/seed.ts";

// GET /v1/models from the models tables; GET /v1/regions from the region directory, which only
// signed heartbeats feed (no region is called here: the endpoints are never dialled).

const WARM = [`${TEST_MODEL.name}@${TEST_MODEL.version}`];
const region = (name: string, lon: number) => ({
  name,
  endpoint: `http://127.0.0.1:9/${name}`,
  lat: 50,
  lon,
});

let f: EdgeFixture;

beforeAll(async () => {
  f = await createEdgeFixture({
    regions: [region("eu-west", -6), region("us-east", -77), region("ap-southeast", 103)],
  });
  await upsertModelVersion(f.db, {
    model: TEST_MODEL.name,
    version: "2026-12-01.1",
    sha256: "b".repeat(64),
    uri: "file:///models/cppn-glove/next.onnx",
    bytes: 2048,
    pipeline: "cppn",
    status: "canary",
    trafficShare: 0.05,
    pricePerMegapixelMicrousd: 50,
    manifest: {},
  });
});
afterAll(() => f?.close());

describe("GET /v1/models", () => {
  it("lists each model with its versions, newest first, rollout state and history, the default and the prices", async () => {
    const res = await f.call("/v1/models");
    expect(res.status).toBe(200);
    const { data } = ModelList.parse(await res.json());
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({
      object: "model",
      name: TEST_MODEL.name,
      default_version: TEST_MODEL.version,
    });
    expect(data[0]!.versions).toEqual([
      expect.objectContaining({
        version: "2026-12-01.1",
        status: "canary",
        traffic_share: 0.05,
        parent_version: null,
        price_per_megapixel_usd: 0.00005,
        gpu_ms_per_megapixel: null,
      }),
      expect.objectContaining({
        version: TEST_MODEL.version,
        status: "default",
        traffic_share: 0,
        price_per_megapixel_usd: 0.00004,
        gpu_ms_per_megapixel: TEST_MODEL.gpuMsPerMegapixel,
        metrics: {
          served: 0,
          like_rate: 0,
          dislike_rate: 0,
          refine_rate: 0,
          report_rate: 0,
          failure_rate: 0,
        },
      }),
    ]);
    // The rollout history, newest first.
    expect(data[0]!.rollouts.map((r) => [r.version, r.action, r.to_status])).toEqual([
      ["2026-12-01.1", "canary", "canary"],
      ["2026-12-01.1", "register", "candidate"],
      [TEST_MODEL.version, "promote", "default"],
      [TEST_MODEL.version, "register", "candidate"],
    ]);
    expect(data[0]!.rollouts[0]).toMatchObject({ traffic_share: 0.05, actor: "register" });
  });

  it("needs a key", async () => {
    await expectError(await f.call("/v1/models", { key: null }), 401, "authentication_error");
  });
});

describe("GET /v1/regions", () => {
  it("says which regions are healthy, degraded (draining) or down (never heard from)", async () => {
    const secret = TEST_SECRETS.regionSigning;
    const queue = { fast: 1, standard: 4, relax: 9 };
    expect(
      (
        await deliverHeartbeat(
          f.app,
          secret,
          idleHeartbeat("eu-west", WARM, { queue_depth: queue }),
        )
      ).status,
    ).toBe(200);
    expect(
      (await deliverHeartbeat(f.app, secret, idleHeartbeat("us-east", [], { draining: true })))
        .status,
    ).toBe(200);

    const res = await f.call("/v1/regions");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const byName = Object.fromEntries(
      RegionList.parse(await res.json()).data.map((r) => [r.name, r]),
    );
    expect(byName["eu-west"]).toMatchObject({
      status: "healthy",
      queue_depth: queue,
      warm_models: WARM,
    });
    expect(byName["eu-west"]!.last_heartbeat_at).not.toBeNull();
    expect(byName["us-east"]).toMatchObject({ status: "degraded" });
    expect(byName["ap-southeast"]).toMatchObject({
      status: "down",
      queue_depth: null,
      last_heartbeat_at: null,
    });
  });

  it("needs a key", async () => {
    await expectError(await f.call("/v1/regions", { key: null }), 401, "authentication_error");
  });
});
