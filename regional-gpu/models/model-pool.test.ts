import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../log.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { ModelChecksumError, ModelPool } from "./model-pool.ts";
import { LocalModelStore } from "./model-store.ts";
import { PIPELINE_FACTORIES } from "./pipeline-factories.ts";
import { CudaUnavailableError, cudaLibraryMissing, OrtSessionFactory } from "./session-factory.ts";

let model: TestModel;
let dir: string;
let lines: string[];

const logger = () => createLogger({ level: "debug", write: (l) => lines.push(l) });
const messages = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

function pool(root: string, choice: "cpu" | "auto" = "cpu") {
  const log = logger();
  return new ModelPool({
    store: new LocalModelStore(root),
    sessions: new OrtSessionFactory({ choice, logger: log }),
    pipelines: PIPELINE_FACTORIES,
    logger: log,
  });
}

/** A copy of the reference model under `root`, with `mutate` applied to the model bytes. */
async function copyModel(root: string, mutate: (bytes: Buffer) => void = () => {}) {
  const { name, version, file, tokenizer } = model.manifest;
  const from = join(model.modelsDir, name, version);
  const to = join(root, name, version);
  await mkdir(to, { recursive: true });
  await copyFile(join(from, "manifest.json"), join(to, "manifest.json"));
  await copyFile(join(from, tokenizer.file), join(to, tokenizer.file));
  const bytes = await readFile(join(from, file));
  mutate(bytes);
  await writeFile(join(to, file), bytes);
}

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "model-pool-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ModelPool", () => {
  it("loads a model once for concurrent callers and measures session time per batch", async () => {
    lines = [];
    const p = pool(model.modelsDir);
    const { name, version } = model.manifest;
    const [a, b] = await Promise.all([p.acquire(name, version), p.acquire(name, version)]);
    expect(a).toBe(b);
    expect(messages().filter((m) => m === "model loaded")).toHaveLength(1);
    expect(p.loaded()).toEqual([model.ref]);
    expect(p.executionProvider()).toBe("cpu");

    const started = performance.now();
    const run = await a.run([
      { prompt: "amber dunes", seed: 1, width: 64, height: 64 },
      { prompt: "teal sea", negativePrompt: "fog", seed: 2, width: 64, height: 64 },
    ]);
    const wall = performance.now() - started;
    expect(run.images.map((i) => [i.width, i.height, i.data.byteLength])).toEqual([
      [64, 64, 64 * 64 * 3],
      [64, 64, 64 * 64 * 3],
    ]);
    expect(run.sessionMs).toBeGreaterThan(0);
    expect(run.sessionMs).toBeLessThanOrEqual(wall);
    await p.close();
    await expect(p.acquire(name, version)).rejects.toThrow(/closed/);
  });

  it("refuses a model file that does not match its manifest's sha256", async () => {
    const root = join(dir, "corrupt");
    await copyModel(root, (bytes) => (bytes[bytes.length - 1]! ^= 0xff));
    const p = pool(root);
    const { name, version } = model.manifest;
    await expect(p.acquire(name, version)).rejects.toBeInstanceOf(ModelChecksumError);
    expect(p.loaded()).toEqual([]);
    await p.close();
  });

  it("knows the models on disk without loading them, and nothing else", async () => {
    const p = pool(model.modelsDir);
    const { name, version } = model.manifest;
    expect((await p.manifestOf(name, version))?.sha256).toBe(model.manifest.sha256);
    expect(await p.manifestOf(name, "0000-00-00.0")).toBeNull();
    expect(await p.manifestOf("../..", version)).toBeNull();
    expect(p.loaded()).toEqual([]);
    await expect(p.warm([`${name}@0000-00-00.0`])).rejects.toThrow(/not found/);
    await p.close();
  });
});

describe("OrtSessionFactory", () => {
  const noCuda = cudaLibraryMissing() !== null;
  const path = () =>
    join(model.modelsDir, model.manifest.name, model.manifest.version, "model.onnx");

  it.runIf(noCuda)("auto falls back to the CPU, logging the reason once", async () => {
    lines = [];
    const factory = new OrtSessionFactory({ choice: "auto", logger: logger() });
    const first = await factory.create(path());
    const second = await factory.create(path());
    expect([first.executionProvider, second.executionProvider]).toEqual(["cpu", "cpu"]);
    const warnings = lines.filter((l) => l.includes("CUDA execution provider unavailable"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("onnxruntime-node-install=cuda12");
    await Promise.all([first.session.release(), second.session.release()]);
  });

  it.runIf(noCuda)("cuda refuses to start without CUDA", async () => {
    const factory = new OrtSessionFactory({ choice: "cuda", logger: logger() });
    await expect(factory.create(path())).rejects.toBeInstanceOf(CudaUnavailableError);
  });
});
