import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { upsertModelVersion } from "../../db/queries/models.ts";
import { createProject } from "../../db/queries/projects.ts";
import { seedPlans } from "../../db/queries/accounts.ts";
import { estimateGpuMs, gpuCostMicrousd, microusdToUsd } from "../generations/pricing.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, runningEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import {
  ROOMY_TEST_PLAN,
  seedAccount,
  TEST_GPU_PRICE_PER_HOUR_MICROUSD,
  TEST_MODEL,
} from "../testing/seed.ts";

// POST /v1/generations/:id/upscale: a child generation (parent_id) of the parent's prompt, seed,
// pinned version and style at 2x or 4x the size; re-drawn by resolution-independent models,
// resampled from the parent's bytes by the others; priced per output megapixel, within the plan.

const REGION = "eu-west";
let f: EdgeFixture;
let region: RegionStandIn;
let serial = 0;

const RESAMPLED = { name: "photo-net", version: "1" };

beforeAll(async () => {
  region = await startRegionStandIn({
    name: REGION,
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({ regions: [region.config], publicUrl: "https://edge.example" });
  // The fixture's reference model re-draws; this one can only resample.
  await upsertModelVersion(f.db, {
    model: TEST_MODEL.name,
    version: TEST_MODEL.version,
    sha256: "a".repeat(64),
    uri: "file:///models/cppn-glove/model.onnx",
    bytes: 1234,
    pipeline: "cppn-text2img",
    status: "active",
    trafficShare: 1,
    gpuMsPerMegapixel: TEST_MODEL.gpuMsPerMegapixel,
    pricePerMegapixelMicrousd: 40,
    manifest: { upscale: "rerender", limits: { min_side: 64, max_side: 2048, multiple_of: 64 } },
  });
  await upsertModelVersion(f.db, {
    model: RESAMPLED.name,
    version: RESAMPLED.version,
    sha256: "c".repeat(64),
    uri: "file:///models/photo-net/1/model.onnx",
    bytes: 1234,
    pipeline: "cppn-text2img",
    status: "active",
    trafficShare: 1,
    gpuMsPerMegapixel: TEST_MODEL.gpuMsPerMegapixel,
    pricePerMegapixelMicrousd: 40,
    manifest: {},
  });
});
afterAll(async () => {
  await f?.close();
  await region?.close();
});

/** A finished generation (its region reported it); answers it. */
async function finished(body: Record<string, unknown> = {}, key = f.owner.key) {
  serial += 1;
  const res = await f.call("/v1/generations", {
    method: "POST",
    key,
    json: { prompt: `upscale me ${serial}`, seed: serial, width: 512, height: 256, ...body },
  });
  const { id } = Generation.parse(await res.json());
  const job = region.jobs.find((j) => j.job_id === id)!;
  await deliverEvent(f.app, TEST_SECRETS.regionSigning, runningEvent(job, REGION));
  await deliverEvent(
    f.app,
    TEST_SECRETS.regionSigning,
    succeededEvent(job, REGION, new TextEncoder().encode(`parent ${serial}`)),
  );
  const done = await f.call(`/v1/generations/${id}`, { key });
  return Generation.parse(await done.json());
}

const upscale = (id: string, body: unknown, init: { key?: string; headers?: HeadersInit } = {}) =>
  f.call(`/v1/generations/${id}/upscale`, { method: "POST", json: body, ...init });

describe("upscale", () => {
  it("re-draws the parent's picture at the larger size: a child with parent_id", async () => {
    const parent = await finished({ negative_prompt: "text" });
    const res = await upscale(parent.id, { factor: 2 });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toMatch(/^\/v1\/generations\/gen_/);
    const child = Generation.parse(await res.json());
    expect(child).toMatchObject({
      parent_id: parent.id,
      prompt: parent.prompt,
      negative_prompt: "text",
      model: parent.model,
      model_version: parent.model_version,
      params: {
        width: 1024,
        height: 512,
        seed: parent.params.seed,
        priority: parent.params.priority,
      },
    });
    const job = region.jobs.find((j) => j.job_id === child.id)!;
    expect(job).toMatchObject({
      width: 1024,
      height: 512,
      seed: parent.params.seed,
      prompt: parent.prompt,
    });
    expect(job.source).toBeUndefined();
    // Priced per output megapixel, like any render of that size.
    const price = (w: number, h: number) =>
      microusdToUsd(
        gpuCostMicrousd(
          estimateGpuMs(TEST_MODEL.gpuMsPerMegapixel, w, h),
          TEST_GPU_PRICE_PER_HOUR_MICROUSD,
        ),
      );
    expect(parent.cost.estimated_usd).toBe(price(512, 256));
    expect(child.cost.estimated_usd).toBe(price(1024, 512));
    // An Idempotency-Key replays the same child.
    const key = { headers: { "Idempotency-Key": `up-${parent.id}` } };
    const first = Generation.parse(await (await upscale(parent.id, { factor: 4 }, key)).json());
    const again = await upscale(parent.id, { factor: 4 }, key);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(Generation.parse(await again.json()).id).toBe(first.id);
    expect(first.params).toMatchObject({ width: 2048, height: 1024 });
  });

  it("resamples the parent's bytes for a model that cannot re-draw", async () => {
    const parent = await finished({ model: `${RESAMPLED.name}@${RESAMPLED.version}` });
    const child = Generation.parse(await (await upscale(parent.id, { factor: 2 })).json());
    const job = region.jobs.find((j) => j.job_id === child.id)!;
    expect(job.source).toEqual({
      key: expect.stringMatching(/^[0-9a-f]{64}\.png$/),
      sha256: parent.output!.sha256,
      url: expect.stringMatching(
        /^https:\/\/edge\.example\/v1\/assets\/[0-9a-f]{64}\.png\?exp=\d+&sig=/,
      ),
    });
    expect(job.source!.url.split("?")[0]).toBe(parent.output!.url.split("?")[0]);
    expect(job).toMatchObject({ width: 1024, height: 512 });
  });

  it("is refused beyond the model's sides and the plan's pixels, for unfinished and unreadable parents", async () => {
    const big = await finished({ width: 1024, height: 1024 });
    const tooLarge = await upscale(big.id, { factor: 4 });
    const error = await expectError(tooLarge, 400, "invalid_request_error", "upscale_too_large");
    expect(error.param).toBe("factor");
    // A plan that allows 1 MP: 512x256 x4 = 2 MP is over it.
    await seedPlans(f.db, [
      { ...ROOMY_TEST_PLAN, id: "one-mp", name: "1 MP", maxPixels: 1_048_576, lanes: ["standard"] },
    ]);
    const small = await seedAccount(f.db, { plan: "one-mp" });
    const own = await finished({}, small.key);
    await expectError(
      await upscale(own.id, { factor: 4 }, { key: small.key }),
      400,
      "invalid_request_error",
      "max_pixels_exceeded",
    );
    const queued = Generation.parse(
      await (
        await f.call("/v1/generations", { method: "POST", json: { prompt: "not yet" } })
      ).json(),
    );
    await expectError(
      await upscale(queued.id, { factor: 2 }),
      409,
      "invalid_request_error",
      "generation_not_succeeded",
    );
    const secret = await finished({}, small.key);
    await expectError(
      await upscale(secret.id, { factor: 2 }),
      404,
      "not_found_error",
      "generation_not_found",
    );
    await expectError(await upscale("gen_nope", { factor: 2 }), 404, "not_found_error");
    for (const body of [{ factor: 3 }, {}, { factor: 2, extra: 1 }]) {
      await expectError(
        await upscale(own.id, body, { key: small.key }),
        400,
        "invalid_request_error",
      );
    }
  });

  it("may upscale another account's public output, into the caller's own account", async () => {
    const other = await seedAccount(f.db, { plan: ROOMY_TEST_PLAN.id });
    const gallery = await createProject(f.db, {
      accountId: other.account.id,
      name: "gallery",
      visibility: "public",
    });
    const parent = await finished({ project: gallery.id }, other.key);
    const child = Generation.parse(await (await upscale(parent.id, { factor: 2 })).json());
    expect(child).toMatchObject({ parent_id: parent.id, project: null });
    const mine = await f.call(`/v1/generations/${child.id}`);
    expect(mine.status).toBe(200);
  });
});
