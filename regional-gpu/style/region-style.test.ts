import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../contracts/ids.ts";
import {
  REGION_PATHS,
  TextStyleAnswer,
  type JobEvent,
  type RegionJob,
} from "../../contracts/region-protocol.ts";
import { STYLE_DESCRIPTOR, STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { JOB_FAILURE, JobFailure } from "../errors.ts";
import { MODEL_VERSION, STYLE_MODEL_VERSION } from "../model-build/build-reference-model.ts";
import { startRegion, type RunningRegion } from "../region.ts";
import { startEdgeStub, type EdgeStub } from "../testing/edge-stub.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { signedFetch, testKey } from "../testing/signed-client.ts";
import { resampleSource } from "../upscale/resample-source.ts";

// The region's part of style: every succeeded event carries the output's style embedding (and,
// from the style model, its style vector); jobs with a style the model cannot take are refused at
// intake; text is placed in the style space on request; resample upscales read their parent.

const SECRET = "region-style-test-secret";
const REGION = "eu-west";
let plain: TestModel;
let styled: TestModel;
let edge: EdgeStub;
let region: RunningRegion;
let dir: string;

beforeAll(async () => {
  plain = await referenceModel(MODEL_VERSION);
  styled = await referenceModel(STYLE_MODEL_VERSION);
  dir = await mkdtemp(join(tmpdir(), "region-style-"));
  edge = await startEdgeStub(SECRET);
  region = await startRegion({
    regionName: REGION,
    port: 0,
    signingKey: testKey(SECRET),
    edgeUrl: edge.url,
    modelDir: plain.modelsDir,
    warmModels: [plain.ref, styled.ref],
    objectStore: { kind: "file", dir: join(dir, "objects") },
    executionProvider: "cpu",
    eventRetryBaseMs: 10,
    logLevel: "silent",
  });
}, 180_000);
afterAll(async () => {
  await region?.close();
  await edge?.close();
  await rm(dir, { recursive: true, force: true });
});

const job = (over: Partial<RegionJob> = {}): RegionJob => ({
  job_id: newId("generation"),
  request_id: newId("request"),
  account_id: "acct_test",
  project_id: null,
  model: styled.manifest.name,
  model_version: styled.manifest.version,
  prompt: "pink cherry blossoms",
  negative_prompt: null,
  width: 64,
  height: 64,
  seed: 4,
  priority: "standard",
  callback_url: `${edge.url}${REGION_PATHS.events(REGION)}`,
  submitted_at: new Date().toISOString(),
  ...over,
});
const submit = (j: RegionJob) =>
  signedFetch(region.url, SECRET, REGION_PATHS.jobs, { body: JSON.stringify(j) });
const outcome = (jobId: string) =>
  edge.waitFor(() => edge.events().find((e) => e.job_id === jobId && e.type !== "running"));
const succeeded = (e: JobEvent) => {
  if (e.type !== "succeeded") throw new Error(`expected succeeded, got ${JSON.stringify(e)}`);
  return e;
};

describe("style at the region", () => {
  it("sends each output's style embedding, and the style model's vector, with `succeeded`", async () => {
    const a = job();
    const b = job({ model: plain.manifest.name, model_version: plain.manifest.version });
    for (const j of [a, b]) expect((await submit(j)).status).toBe(202);
    const [withVector, withoutVector] = [
      succeeded(await outcome(a.job_id)),
      succeeded(await outcome(b.job_id)),
    ];
    for (const event of [withVector, withoutVector]) {
      expect(event.style_embedding?.descriptor).toBe(STYLE_DESCRIPTOR);
      expect(event.style_embedding?.values).toHaveLength(STYLE_EMBEDDING_DIMS);
    }
    // Same prompt and seed, either version: the same pixels, so the same embedding.
    expect(withVector.style_embedding).toEqual(withoutVector.style_embedding);
    expect(withVector.output.sha256).toBe(withoutVector.output.sha256);
    expect(withVector.style_vector).toMatchObject({ space: styled.manifest.style!.space });
    expect(withVector.style_vector?.values).toHaveLength(50);
    expect(withoutVector.style_vector).toBeUndefined();

    // Drawn with that vector at strength 1: the reference's own bytes, from another prompt.
    const copy = job({
      prompt: "neon city at night",
      style: {
        space: withVector.style_vector!.space,
        vector: withVector.style_vector!.values,
        strength: 1,
      },
    });
    await submit(copy);
    expect(succeeded(await outcome(copy.job_id)).output.sha256).toBe(withVector.output.sha256);
  }, 60_000);

  it("refuses at intake a style the model cannot take", async () => {
    const vector = new Array<number>(50).fill(0.1);
    const refusals = [
      job({
        model: plain.manifest.name,
        model_version: plain.manifest.version,
        style: { space: styled.manifest.style!.space, vector, strength: 0.5 },
      }),
      job({ style: { space: "another/space", vector, strength: 0.5 } }),
      job({ style: { space: styled.manifest.style!.space, vector: [1, 2], strength: 0.5 } }),
    ];
    for (const j of refusals) {
      const res = await submit(j);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        "style_not_supported",
      );
    }
  });

  it("places text in the style space as the model draws it", async () => {
    const ask = (body: unknown) =>
      signedFetch(region.url, SECRET, REGION_PATHS.styleText, { body: JSON.stringify(body) });
    const res = await ask({
      model: "cppn-glove",
      version: STYLE_MODEL_VERSION,
      text: "pink cherry blossoms",
    });
    expect(res.status).toBe(200);
    const { embedding } = TextStyleAnswer.parse(await res.json());
    expect(embedding.descriptor).toBe(STYLE_DESCRIPTOR);
    expect(Math.hypot(...embedding.values)).toBeCloseTo(1, 5);
    const again = TextStyleAnswer.parse(
      await (
        await ask({
          model: "cppn-glove",
          version: STYLE_MODEL_VERSION,
          text: "pink cherry blossoms",
        })
      ).json(),
    );
    expect(again.embedding).toEqual(embedding);
    expect((await ask({ model: "cppn-glove", version: "nope", text: "x" })).status).toBe(404);
    expect((await ask({ model: "cppn-glove", text: "x" })).status).toBe(400);
    const unsigned = await fetch(`${region.url}${REGION_PATHS.styleText}`, {
      method: "POST",
      body: "{}",
    });
    expect(unsigned.status).toBe(401);
  });
});

describe("resampleSource", () => {
  let server: Server;
  let url: string;
  let png: Uint8Array;
  let served = 0;

  beforeAll(async () => {
    png = new Uint8Array(
      await sharp({ create: { width: 64, height: 32, channels: 3, background: "#336699" } })
        .png()
        .toBuffer(),
    );
    server = createServer((_req, res) => {
      served += 1;
      res.writeHead(200, { "content-type": "image/png" }).end(png);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/parent.png`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
  });

  const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

  it("scales the parent read from the edge when this region's store lacks it", async () => {
    const store = new FsObjectStore(await mkdtemp(join(dir, "empty-")));
    const source = { key: `${sha256(png)}.png`, sha256: sha256(png), url };
    const image = await resampleSource(job({ width: 128, height: 64, source }), { store });
    expect(image).toMatchObject({ width: 128, height: 64, channels: 3 });
    expect(image.data.byteLength).toBe(128 * 64 * 3);
    expect(Array.from(image.data.subarray(0, 3))).toEqual([0x33, 0x66, 0x99]);
    expect(served).toBe(1);
    // Stored here: read from the store, not fetched.
    await store.put(source.key, png, { contentType: "image/png" });
    await resampleSource(job({ width: 128, height: 64, source }), { store });
    expect(served).toBe(1);
  });

  it("fails the job when the bytes are not the parent's", async () => {
    const store = new FsObjectStore(await mkdtemp(join(dir, "empty-")));
    const source = { key: "x.png", sha256: "0".repeat(64), url };
    const failure = await resampleSource(job({ width: 128, height: 64, source }), { store }).catch(
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(JobFailure);
    expect((failure as JobFailure).code).toBe(JOB_FAILURE.sourceUnavailable);
  });
});
