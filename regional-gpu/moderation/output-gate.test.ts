import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  JobEvent,
  ModerationPolicy,
  outputKey,
  QUARANTINE_PREFIX,
  type RegionJob,
} from "../../contracts/region-protocol.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { JOB_FAILURE } from "../errors.ts";
import { createLogger } from "../log.ts";
import { ensureReferenceModel } from "../model-build/build-reference-model.ts";
import { OrtSessionFactory } from "../models/session-factory.ts";
import { createCppnPipeline } from "../pipelines/cppn-text2img.ts";
import type { Pipeline, RawImage } from "../pipelines/pipeline.ts";
import { loadVocabulary } from "../pipelines/vocabulary.ts";
import { TEST_CLASSIFIERS_DIR } from "../testing/classifiers.ts";
import { TEST_MODELS_DIR } from "../testing/reference-model.ts";
import { OnnxClassifier } from "./onnx-classifier.ts";
import { OutputGate } from "./output-gate.ts";
import { OutputModerator } from "./output-moderator.ts";
import { SAMPLE_PROMPTS } from "./sample-prompts.ts";
import { startModerator } from "./shared-moderator.ts";
import { ramp } from "./synthetic-images.ts";

// Real images through the real classifiers (MobileNetV2Mid screening, InceptionV3 confirming, both
// converted to ONNX and run by ONNX Runtime) into a real on-disk object store: CPPN outputs pass, a block lands in quarantine only, a check that cannot
// run fails the job without storing anything.

let session: InferenceSession;
let pipeline: Pipeline;
let moderation: Awaited<ReturnType<typeof startModerator>>;
let dir: string;
let store: FsObjectStore;

beforeAll(async () => {
  const { manifestPath, manifest } = await ensureReferenceModel(TEST_MODELS_DIR, () => {});
  const modelDir = dirname(manifestPath);
  const vocab = await loadVocabulary(
    join(modelDir, manifest.tokenizer.file),
    manifest.tokenizer.sha256,
  );
  session = await InferenceSession.create(join(modelDir, manifest.file), {
    executionProviders: ["cpu"],
  });
  pipeline = createCppnPipeline(manifest, session, vocab);
  moderation = await startModerator({
    screenModel: "MobileNetV2Mid",
    confirmModel: "InceptionV3",
    executionProvider: "cpu",
    dir: TEST_CLASSIFIERS_DIR,
    logger: createLogger({ level: "silent" }),
  });
  dir = await mkdtemp(join(tmpdir(), "output-gate-"));
  store = new FsObjectStore(dir);
}, 180_000);
afterAll(async () => {
  await moderation?.close();
  await session?.release();
  await rm(dir, { recursive: true, force: true });
});

const gate = () => new OutputGate({ store, moderator: moderation.moderator });

const render = async (prompt: string, seed: number): Promise<RawImage> =>
  (await pipeline.run([{ prompt, seed, width: 128, height: 128 }]))[0]!;

const job = (moderation?: unknown): RegionJob => ({
  job_id: `gen_${Math.random().toString(36).slice(2)}`,
  request_id: "req_test",
  account_id: "acct_test",
  project_id: null,
  model: "cppn-glove",
  model_version: "test",
  prompt: "test",
  negative_prompt: null,
  width: 128,
  height: 128,
  seed: 1,
  priority: "standard",
  callback_url: "http://127.0.0.1:1/events",
  submitted_at: new Date().toISOString(),
  ...(moderation !== undefined && { moderation: ModerationPolicy.parse(moderation) }),
});

describe("output moderation on real images", () => {
  it("passes 20 CPPN outputs at 128x128 under the standard policy, on the screen alone", async () => {
    const images = await pipeline.run(
      SAMPLE_PROMPTS.map((prompt, i) => ({ prompt, seed: 1000 + i, width: 128, height: 128 })),
    );
    const checks = await Promise.all(images.map((img) => moderation.moderator.check(img)));
    for (const [i, check] of checks.entries()) {
      expect(
        check.verdict.blocked,
        `${SAMPLE_PROMPTS[i]}: ${JSON.stringify(check.verdict.scores)}`,
      ).toBe(false);
      expect(check.screening).toBeUndefined();
      expect(check.classifier).toMatch(/^nsfwjs\/MobileNetV2Mid@\d+\.\d+\.\d+\+onnx$/);
    }
  }, 120_000);

  it("publishes a passing image at its public key and times the check", async () => {
    const gated = await gate().pass(job(), await render(SAMPLE_PROMPTS[0]!, 1000));
    if (gated.kind !== "published") throw new Error(`expected published, got ${gated.kind}`);
    expect(gated.moderationMs).toBeGreaterThan(0);
    expect(gated.flag).toBeUndefined();
    expect(await store.head(gated.output.key)).not.toBeNull();
  });

  it("blocks under a very low threshold: quarantined only, with the classifier's own scores", async () => {
    const image = ramp(128, 128, 40);
    // Strict: the screen's verdict stands; a 0.001 bar is reached by any real score.
    const policy = {
      strictness: "strict",
      thresholds: { porn: 0.001, hentai: 0.001, sexy: 0.001 },
    };
    const scores = await moderation.moderator.check(image, ModerationPolicy.parse(policy));
    const j = job(policy);
    const gated = await gate().pass(j, image);
    if (gated.kind !== "blocked") throw new Error(`expected blocked, got ${gated.kind}`);
    const { blocked } = gated;
    expect(blocked.categories.length).toBeGreaterThan(0);
    expect(blocked.scores).toEqual(scores.verdict.scores);
    for (const c of blocked.categories) expect(blocked.scores[c]).toBeGreaterThanOrEqual(0.001);
    expect(blocked.thresholds).toEqual({ porn: 0.001, hentai: 0.001, sexy: 0.001 });
    expect(blocked.classifier).toMatch(/^nsfwjs\/MobileNetV2Mid@/);
    expect(blocked.screening).toBeUndefined();

    expect(blocked.quarantine_key.startsWith(QUARANTINE_PREFIX)).toBe(true);
    const kept = await store.get(blocked.quarantine_key);
    expect(kept?.metadata).toMatchObject({
      job_id: j.job_id,
      categories: blocked.categories.join(","),
    });
    const sha256 = kept!.metadata.sha256!;
    expect(await store.head(outputKey(sha256, "png"))).toBeNull();
    const decoded = await sharp(kept!.body).raw().toBuffer();
    expect(Buffer.from(decoded).equals(Buffer.from(image.data))).toBe(true);

    // The fields the scheduler spreads into the event satisfy the contract.
    const event = JobEvent.parse({
      type: "blocked",
      job_id: j.job_id,
      region: "eu-west",
      request_id: j.request_id,
      at: new Date().toISOString(),
      started_at: new Date().toISOString(),
      gpu_ms: 1,
      execution_provider: "cpu",
      timings: {
        queue_ms: 0,
        inference_ms: 1,
        encode_ms: gated.encodeMs,
        upload_ms: gated.uploadMs,
        moderation_ms: gated.moderationMs,
        batch_size: 1,
      },
      ...blocked,
    });
    expect(event.type).toBe("blocked");
  }, 60_000);

  it("lets the confirming classifier clear a screen false positive on abstract art", async () => {
    // A smooth skin-toned CPPN render the screen scores ~0.95 "porn"; InceptionV3 says neutral.
    const image = await render("snow storm green dawn", 5004);
    const gated = await gate().pass(job(), image);
    if (gated.kind !== "published") throw new Error(`expected published, got ${gated.kind}`);
    expect(gated.flag).toMatchObject({ categories: ["porn"] });
    expect(gated.flag!.classifier).toMatch(/^nsfwjs\/MobileNetV2Mid@/);
    expect(gated.flag!.scores.porn).toBeGreaterThan(0.5);
    const confirmed = await moderation.moderator.check(image);
    expect(confirmed.classifier).toMatch(/^nsfwjs\/InceptionV3@\d+\.\d+\.\d+\+onnx$/);

    // Under strict the screen's verdict stands: the same image is blocked.
    const strict = await gate().pass(job({ strictness: "strict" }), image);
    expect(strict.kind).toBe("blocked");
  }, 60_000);

  it("fails the job, storing nothing, when the image cannot be checked", async () => {
    const closed = new OnnxClassifier({
      model: "MobileNetV2Mid",
      sessions: new OrtSessionFactory({ choice: "cpu", logger: createLogger({ level: "silent" }) }),
      dir: TEST_CLASSIFIERS_DIR,
      logger: createLogger({ level: "silent" }),
    });
    await closed.close();
    const filesBefore = await readdir(dir, { recursive: true });
    const attempt = new OutputGate({
      store,
      moderator: new OutputModerator({ screen: closed }),
    }).pass(job(), ramp(128, 128, 99));
    await expect(attempt).rejects.toMatchObject({ code: JOB_FAILURE.moderation });
    expect(await readdir(dir, { recursive: true })).toEqual(filesBefore);
  });
});
