import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation, SearchResults } from "../../contracts/api.ts";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import { STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import { getStyleRecord } from "../../db/queries/style-embeddings.ts";
import { upsertModelVersion } from "../../db/queries/models.ts";
import { modelVersions } from "../../db/schema/models.ts";
import {
  MODEL_VERSION,
  STYLE_MODEL_VERSION,
} from "../../regional-gpu/model-build/build-reference-model.ts";
import { startRegion, type RunningRegion } from "../../regional-gpu/region.ts";
import { writeModelVersion } from "../../regional-gpu/testing/model-versions.ts";
import { referenceModel } from "../../regional-gpu/testing/reference-model.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { testRegionKey } from "../testing/region-keys.ts";

// Style end to end on real parts: the edge served over HTTP, a real regional node running both
// versions of the reference model on ONNX Runtime (and a copy that can only resample), real output
// moderation and a real object store. Embeddings come from the pixels at the region, references
// change the bytes, search ranks them, an upscale re-draws or resamples.

const REGION = "eu-west";
const RESAMPLE_VERSION = "resample-only";
let f: EdgeFixture;
let region: RunningRegion;
let dir: string;
let edgeServer: ReturnType<typeof serve>;
let objects: string;

async function register(manifest: ModelManifest) {
  await upsertModelVersion(f.db, {
    model: manifest.name,
    version: manifest.version,
    sha256: manifest.sha256,
    uri: `file:///${manifest.name}/${manifest.version}/${manifest.file}`,
    bytes: manifest.bytes,
    pipeline: manifest.pipeline,
    status: "active",
    trafficShare: 1,
    gpuMsPerMegapixel: manifest.gpu_ms_per_megapixel,
    pricePerMegapixelMicrousd: 40,
    manifest,
  });
}

beforeAll(async () => {
  const plain = await referenceModel(MODEL_VERSION);
  const styled = await referenceModel(STYLE_MODEL_VERSION);
  dir = await mkdtemp(join(tmpdir(), "edge-style-"));
  const modelsDir = join(dir, "models");
  // The two versions as built, and one whose manifest says it cannot re-draw at another size.
  await writeModelVersion(plain, modelsDir, MODEL_VERSION);
  await writeModelVersion(styled, modelsDir, STYLE_MODEL_VERSION);
  const resampleOnly = await writeModelVersion(plain, modelsDir, RESAMPLE_VERSION, {
    manifest: { upscale: "resample" },
  });
  let app: EdgeFixture["app"] | undefined;
  const edgeUrl = await new Promise<string>((listening) => {
    edgeServer = serve(
      { hostname: "127.0.0.1", port: 0, fetch: (req: Request) => app!.fetch(req) },
      (info: AddressInfo) => listening(`http://127.0.0.1:${info.port}`),
    );
  });
  objects = join(dir, "objects");
  region = await startRegion({
    regionName: REGION,
    port: 0,
    signingKey: testRegionKey(TEST_SECRETS.regionSigning, REGION),
    modelDir: modelsDir,
    warmModels: [plain.ref, styled.ref],
    objectStore: { kind: "file", dir: objects },
    executionProvider: "cpu",
    eventRetryBaseMs: 10,
    logLevel: "silent",
  });
  f = await createEdgeFixture({
    regions: [{ name: REGION, endpoint: region.url, lat: 53.35, lon: -6.26 }],
    publicUrl: edgeUrl,
  });
  app = f.app;
  // The fixture's stand-in registration of the first version gives way to the real one.
  await f.db.delete(modelVersions);
  await register(plain.manifest);
  await register(resampleOnly);
  // Registered last: the newest active version is the default.
  await register(styled.manifest);
}, 180_000);
afterAll(async () => {
  await region?.close();
  await f?.close();
  await new Promise((done) => edgeServer?.close(done));
  await rm(dir, { recursive: true, force: true });
});

async function generate(body: Record<string, unknown>): Promise<Generation> {
  const res = await f.call("/v1/generations", {
    method: "POST",
    headers: { Prefer: "wait=60" },
    json: { width: 128, height: 128, ...body },
  });
  const generation = Generation.parse(await res.json());
  expect(generation.status, JSON.stringify(generation.error)).toBe("succeeded");
  await f.tasks.drain(5_000);
  return generation;
}

async function search(body: unknown) {
  const res = await f.call("/v1/search", { method: "POST", json: body });
  expect(res.status).toBe(200);
  return SearchResults.parse(await res.json());
}

describe("style on a real region", () => {
  let reference: Generation;

  beforeAll(async () => {
    reference = await generate({ prompt: "golden desert dunes", seed: 7 });
  }, 120_000);

  it("records every output's style embedding and, from the style model, its style vector", async () => {
    expect(reference.model_version).toBe(STYLE_MODEL_VERSION);
    const record = await getStyleRecord(f.db, reference.id);
    expect(record?.embedding).toHaveLength(STYLE_EMBEDDING_DIMS);
    expect(Math.hypot(...record!.embedding)).toBeCloseTo(1, 5);
    expect(record?.styleVector).toHaveLength(50);
    expect(record?.indexedAt).toBeInstanceOf(Date);
    const plain = await generate({
      prompt: "golden desert dunes",
      seed: 8,
      model: `cppn-glove@${MODEL_VERSION}`,
    });
    const plainRecord = await getStyleRecord(f.db, plain.id);
    expect(plainRecord?.embedding).toHaveLength(STYLE_EMBEDDING_DIMS);
    expect(plainRecord?.styleVector).toBeNull();
  }, 120_000);

  it("applies a reference: strength 0 is the same bytes, the look nears it as strength rises", async () => {
    const base = { prompt: "green mossy forest", seed: 3 };
    const without = await generate(base);
    const styled = [];
    for (const strength of [0, 0.3, 0.7, 1]) {
      styled.push(await generate({ ...base, style: { reference: reference.id, strength } }));
    }
    expect(styled[0]!.output!.sha256).toBe(without.output!.sha256);
    expect(styled[3]!.output!.sha256).toBe(reference.output!.sha256);
    const page = await search({ generation: reference.id, limit: 50 });
    const score = (id: string) => page.data.find((r) => r.generation.id === id)!.score;
    const scores = styled.map((g) => score(g.id));
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThan(scores[i - 1]!);
    expect(scores[3]).toBeCloseTo(1, 5);
    // The first version takes no style.
    const res = await f.call("/v1/generations", {
      method: "POST",
      json: { ...base, model: `cppn-glove@${MODEL_VERSION}`, style: { reference: reference.id } },
    });
    expect(res.status).toBe(422);
  }, 180_000);

  it("finds outputs by text, drawn by the model at the region", async () => {
    const res = await f.call(`/v1/search?q=${encodeURIComponent("golden desert dunes")}&limit=3`);
    expect(res.status).toBe(200);
    const ids = SearchResults.parse(await res.json()).data.map((r) => r.generation.id);
    expect(ids).toContain(reference.id);
  }, 60_000);

  it("refines with the parent as style reference: strength 0 stays near it, 1 follows the new prompt", async () => {
    const refine = async (strength: number) => {
      const res = await f.call(`/v1/generations/${reference.id}/refine`, {
        method: "POST",
        headers: { Prefer: "wait=60" },
        json: { prompt: "teal ocean waves at night", strength },
      });
      const child = Generation.parse(await res.json());
      expect(child, JSON.stringify(child.error)).toMatchObject({
        status: "succeeded",
        parent_id: reference.id,
        model_version: reference.model_version,
        params: { seed: reference.params.seed, width: reference.params.width },
        style: { reference: reference.id, strength: 1 - strength },
      });
      await f.tasks.drain(5_000);
      return child;
    };
    const close = await refine(0);
    const free = await refine(1);
    const scores = new Map(
      (await search({ generation: reference.id, limit: 50 })).data.map((r) => [
        r.generation.id,
        r.score,
      ]),
    );
    expect(scores.get(close.id)).toBeGreaterThan(scores.get(free.id)!);
  }, 120_000);

  it("upscales by re-drawing: twice the size, the same picture", async () => {
    const res = await f.call(`/v1/generations/${reference.id}/upscale`, {
      method: "POST",
      headers: { Prefer: "wait=60" },
      json: { factor: 2 },
    });
    const child = Generation.parse(await res.json());
    expect(child).toMatchObject({ status: "succeeded", parent_id: reference.id });
    expect(child.output).toMatchObject({ width: 256, height: 256 });
    await f.tasks.drain(5_000);
    const near = await search({ generation: child.id, limit: 1 });
    expect(near.data[0]).toMatchObject({ generation: { id: reference.id } });
    expect(near.data[0]!.score).toBeGreaterThan(0.98);
  }, 120_000);

  it("upscales by resampling for a model that cannot re-draw (Lanczos-3 of the parent's bytes)", async () => {
    const parent = await generate({
      prompt: "neon city at night",
      seed: 5,
      model: `cppn-glove@${RESAMPLE_VERSION}`,
    });
    const res = await f.call(`/v1/generations/${parent.id}/upscale`, {
      method: "POST",
      headers: { Prefer: "wait=60" },
      json: { factor: 2 },
    });
    const child = Generation.parse(await res.json());
    expect(child).toMatchObject({ status: "succeeded", parent_id: parent.id });
    const store = new FsObjectStore(objects);
    const parentPng = (await store.get(`${parent.output!.sha256}.png`))!.body;
    const expected = await sharp(parentPng)
      .resize(256, 256, { kernel: "lanczos3", fit: "fill" })
      .raw()
      .toBuffer();
    const childPng = (await store.get(`${child.output!.sha256}.png`))!.body;
    expect(Buffer.compare(await sharp(childPng).raw().toBuffer(), expected)).toBe(0);
  }, 120_000);
});
