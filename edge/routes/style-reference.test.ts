import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { createProject } from "../../db/queries/projects.ts";
import { upsertModelVersion } from "../../db/queries/models.ts";
import { direction } from "../../storage/style-index/style-index.contract.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, runningEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { ROOMY_TEST_PLAN, seedAccount, TEST_MODEL } from "../testing/seed.ts";

// `style: { reference, strength }` on POST /v1/generations: resolved at acceptance into the
// reference's style vector, which travels with the job; refused when the model takes no style
// (422 style_not_supported) or the caller may not read the reference (404).

const REGION = "eu-west";
const SPACE = "cppn-glove/latent32-ramp6x3";
const STYLED = "2026-12-01.1";
let f: EdgeFixture;
let region: RegionStandIn;
let bob: Awaited<ReturnType<typeof seedAccount>>;
let serial = 0;

const vector = (seed: number) =>
  Array.from({ length: 50 }, (_, i) => Math.fround(Math.sin(seed + i)));

beforeAll(async () => {
  region = await startRegionStandIn({
    name: REGION,
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({ regions: [region.config] });
  bob = await seedAccount(f.db, { plan: ROOMY_TEST_PLAN.id });
  // The style-capable version, as the model build registers it (the fixture's first has none).
  await upsertModelVersion(f.db, {
    model: TEST_MODEL.name,
    version: STYLED,
    sha256: "b".repeat(64),
    uri: "file:///models/cppn-glove/2026-12-01.1/model.onnx",
    bytes: 1234,
    pipeline: "cppn-text2img",
    status: "active",
    trafficShare: 1,
    gpuMsPerMegapixel: TEST_MODEL.gpuMsPerMegapixel,
    pricePerMegapixelMicrousd: 40,
    manifest: {
      style: {
        input: "style",
        strength_input: "style_strength",
        output: "style_vector",
        dims: 50,
        space: SPACE,
      },
      upscale: "rerender",
    },
  });
});
afterAll(async () => {
  await f?.close();
  await region?.close();
});

async function submit(body: Record<string, unknown>, key = f.owner.key) {
  serial += 1;
  return f.call("/v1/generations", {
    method: "POST",
    key,
    json: { prompt: `reference ${serial}`, seed: serial, ...body },
  });
}

/** A finished generation whose output was drawn with `styleVector` (none: no style output). */
async function finished(opts: { key?: string; project?: string; styleVector?: number[] } = {}) {
  const res = await submit(opts.project ? { project: opts.project } : {}, opts.key);
  const { id } = Generation.parse(await res.json());
  const job = region.jobs.find((j) => j.job_id === id)!;
  await deliverEvent(f.app, TEST_SECRETS.regionSigning, runningEvent(job, REGION));
  await deliverEvent(
    f.app,
    TEST_SECRETS.regionSigning,
    succeededEvent(job, REGION, new TextEncoder().encode(`ref ${serial}`), 10, {
      embedding: direction(serial % 120),
      ...(opts.styleVector && { vector: { space: SPACE, values: opts.styleVector } }),
    }),
  );
  return id;
}

describe("style references", () => {
  it("send the reference's vector and the strength with the job", async () => {
    const ref = await finished({ styleVector: vector(1) });
    for (const strength of [0, 0.3, 1]) {
      const res = await submit({ style: { reference: ref, strength } });
      expect(res.status).toBe(202);
      const generation = Generation.parse(await res.json());
      expect(generation).toMatchObject({
        model_version: STYLED,
        style: { reference: ref, strength },
      });
      const job = region.jobs.find((j) => j.job_id === generation.id)!;
      expect(job.style).toMatchObject({ space: SPACE, strength });
      // Stored as float32 (real[]): the same float32 values reach the model.
      expect(job.style?.vector.map(Math.fround)).toEqual(vector(1));
    }
    // The default strength is 0.5; a request without a style sends none.
    const jobOf = async (res: Response) => {
      const { id } = Generation.parse(await res.json());
      return region.jobs.find((j) => j.job_id === id)!;
    };
    expect((await jobOf(await submit({ style: { reference: ref } }))).style?.strength).toBe(0.5);
    expect((await jobOf(await submit({}))).style).toBeUndefined();
  });

  it("are answered from the dedup cache like any identical request", async () => {
    const ref = await finished({ styleVector: vector(2) });
    const body = { prompt: "cached style", seed: 77, style: { reference: ref, strength: 0.4 } };
    const first = Generation.parse(
      await (await f.call("/v1/generations", { method: "POST", json: body })).json(),
    );
    const job = region.jobs.find((j) => j.job_id === first.id)!;
    await deliverEvent(f.app, TEST_SECRETS.regionSigning, runningEvent(job, REGION));
    await deliverEvent(
      f.app,
      TEST_SECRETS.regionSigning,
      succeededEvent(job, REGION, new TextEncoder().encode("styled once")),
    );
    const again = await f.call("/v1/generations", { method: "POST", json: body });
    expect(again.status).toBe(200);
    expect(again.headers.get("cache-status")).toMatch(/hit/);
    const other = await f.call("/v1/generations", {
      method: "POST",
      json: { ...body, style: { reference: ref, strength: 0.5 } },
    });
    expect(other.status).toBe(202);
  });

  it("may name another account's public output, never its private ones (404, as unknown)", async () => {
    const gallery = await createProject(f.db, {
      accountId: bob.account.id,
      name: "gallery",
      visibility: "public",
    });
    const shared = await finished({ key: bob.key, project: gallery.id, styleVector: vector(3) });
    const secret = await finished({ key: bob.key, styleVector: vector(4) });
    const ok = await submit({ style: { reference: shared, strength: 0.7 } });
    expect(ok.status).toBe(202);
    for (const reference of [secret, "gen_00000000000000000000000000"]) {
      const res = await submit({ style: { reference, strength: 0.7 } });
      const error = await expectError(res, 404, "not_found_error", "generation_not_found");
      expect(error.param).toBe("style.reference");
    }
  });

  it("are refused by a model without a style input, and without a usable vector", async () => {
    const ref = await finished({ styleVector: vector(5) });
    const pinned = await submit({
      model: `${TEST_MODEL.name}@${TEST_MODEL.version}`,
      style: { reference: ref, strength: 0.5 },
    });
    const error = await expectError(pinned, 422, "invalid_request_error", "style_not_supported");
    expect(error.param).toBe("style");
    const noVector = await finished();
    const res = await submit({ style: { reference: noVector, strength: 0.5 } });
    await expectError(res, 422, "invalid_request_error", "style_reference_unusable");
    const queued = Generation.parse(await (await submit({})).json());
    const early = await submit({ style: { reference: queued.id, strength: 0.5 } });
    await expectError(early, 422, "invalid_request_error", "style_reference_unusable");
    const bad = await submit({ style: { reference: ref, strength: 1.5 } });
    await expectError(bad, 400, "invalid_request_error");
  });
});

describe("taste profiles", () => {
  const like = async (id: string, key = f.owner.key) => {
    const res = await f.call(`/v1/generations/${id}/feedback`, {
      method: "POST",
      key,
      json: { kind: "like" },
    });
    expect(res.status).toBeLessThan(300);
  };
  const mean = (vectors: number[][]) =>
    vectors[0]!.map((_, d) => Math.fround(vectors.reduce((s, v) => s + v[d]!, 0) / vectors.length));

  it("draw with the mean style of the outputs the caller liked, and follow new likes", async () => {
    const carol = await seedAccount(f.db, { plan: ROOMY_TEST_PLAN.id });
    const profile = { profile: "me", strength: 0.6 };
    const empty = await submit({ style: profile }, carol.key);
    const error = await expectError(empty, 422, "invalid_request_error", "style_profile_empty");
    expect(error.param).toBe("style.profile");

    const gallery = await createProject(f.db, {
      accountId: bob.account.id,
      name: "profile gallery",
      visibility: "public",
    });
    // Two of carol's own outputs and one of bob's public ones count; an output without a style
    // vector does not.
    const liked = [
      await finished({ key: carol.key, styleVector: vector(11) }),
      await finished({ key: carol.key, styleVector: vector(12) }),
      await finished({ key: bob.key, project: gallery.id, styleVector: vector(13) }),
    ];
    await like(liked[0]!, carol.key);
    await like(liked[1]!, carol.key);
    await like(await finished({ key: carol.key }), carol.key);
    await expectError(
      await submit({ style: profile }, carol.key),
      422,
      "invalid_request_error",
      "style_profile_empty",
    );
    await like(liked[2]!, carol.key);

    const res = await submit({ style: profile }, carol.key);
    expect(res.status).toBe(202);
    const generation = Generation.parse(await res.json());
    expect(generation.style).toEqual(profile);
    const job = region.jobs.find((j) => j.job_id === generation.id)!;
    expect(job.style).toMatchObject({ space: SPACE, strength: 0.6 });
    const expected = mean([vector(11), vector(12), vector(13)]);
    job.style!.vector.forEach((v, d) => expect(v).toBeCloseTo(expected[d]!, 5));

    // Another like moves the profile: the same request is new work, not a cache hit.
    await like(await finished({ key: carol.key, styleVector: vector(14) }), carol.key);
    const body = { prompt: "my taste", seed: 5, style: profile };
    const first = Generation.parse(
      await (
        await f.call("/v1/generations", { method: "POST", key: carol.key, json: body })
      ).json(),
    );
    const moved = region.jobs.find((j) => j.job_id === first.id)!.style!.vector;
    const four = mean([vector(11), vector(12), vector(13), vector(14)]);
    moved.forEach((v, d) => expect(v).toBeCloseTo(four[d]!, 5));
  });

  it("are refused by a model without a style input", async () => {
    const res = await submit({
      model: `${TEST_MODEL.name}@${TEST_MODEL.version}`,
      style: { profile: "me", strength: 0.5 },
    });
    await expectError(res, 422, "invalid_request_error", "style_not_supported");
    const bad = await submit({ style: { profile: "you", strength: 0.5 } });
    await expectError(bad, 400, "invalid_request_error");
  });
});
