import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../log.ts";
import { GraphBuilder } from "../model-build/onnx-graph.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { corruptFile, writeModelVersion } from "../testing/model-versions.ts";
import type { MemoryProbe } from "./memory-probe.ts";
import {
  ModelChecksumError,
  ModelMemoryBudgetError,
  ModelNotFoundError,
  ModelSignatureError,
} from "./model-errors.ts";
import { ModelPool, type ModelPoolOptions } from "./model-pool.ts";
import type { ModelEvictEvent, ModelLoadEvent } from "./model-pool-events.ts";
import { LocalModelStore } from "./model-store.ts";
import { ModelDiskCache } from "./disk-cache.ts";
import { HttpModelStore } from "./http-model-store.ts";
import { TieredModelRepository } from "./tiered-model-repository.ts";
import { startModelHttpServer } from "../testing/model-http-server.ts";
import { PIPELINE_FACTORIES } from "./pipeline-factories.ts";
import { CudaUnavailableError, cudaLibraryMissing, OrtSessionFactory } from "./session-factory.ts";

let model: TestModel;
let dir: string;
let lines: string[];
/** Three versions of the reference model side by side. */
let versions: string;
let declared: number;

const logger = () => createLogger({ level: "debug", write: (l) => lines.push(l) });
const messages = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

/** Sees no memory change: every footprint falls back to the declared graph bytes (a known figure). */
const blindProbe: MemoryProbe = { read: async () => ({ cpu: 0 }), capacity: async () => null };

function pool(
  root: string,
  opts: { budget?: number; memory?: MemoryProbe; pipelines?: ModelPoolOptions["pipelines"] } = {},
) {
  const log = logger();
  return new ModelPool({
    repository: new LocalModelStore(root),
    sessions: new OrtSessionFactory({ choice: "cpu", logger: log }),
    pipelines: opts.pipelines ?? PIPELINE_FACTORIES,
    logger: log,
    ...(opts.budget !== undefined && { memoryBudgetBytes: opts.budget }),
    ...(opts.memory && { memory: opts.memory }),
  });
}

const small = (seed: number) => ({ prompt: "amber dunes", seed, width: 64, height: 64 });

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "model-pool-"));
  versions = join(dir, "versions");
  for (const v of ["a", "b", "c"]) await writeModelVersion(model, versions, v);
  declared = model.manifest.bytes;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ModelPool", () => {
  it("loads a model once for concurrent callers and measures session time per batch", async () => {
    lines = [];
    const p = pool(model.modelsDir);
    const { name, version } = model.manifest;
    const all = await Promise.all(Array.from({ length: 6 }, () => p.acquire(name, version)));
    expect(new Set(all).size).toBe(1);
    expect(messages().filter((m) => m === "model loaded")).toHaveLength(1);
    expect(p.loaded()).toEqual([model.ref]);
    expect(p.executionProvider()).toBe("cpu");

    const started = performance.now();
    const run = await all[0]!.run([
      small(1),
      { prompt: "teal sea", negativePrompt: "fog", seed: 2, width: 64, height: 64 },
    ]);
    const wall = performance.now() - started;
    expect(run.images.map((i) => [i.width, i.height, i.data.byteLength])).toEqual([
      [64, 64, 64 * 64 * 3],
      [64, 64, 64 * 64 * 3],
    ]);
    expect(run.sessionMs).toBeGreaterThan(0);
    expect(run.sessionMs).toBeLessThanOrEqual(wall);
    // The footprint is measured (process RSS here) and never below the graph's own bytes.
    expect(p.stats().hot.footprints[model.ref]).toBeGreaterThanOrEqual(declared);
    await p.close();
    await expect(p.acquire(name, version)).rejects.toThrow(/closed/);
  });

  it("makes N concurrent asks for a cold model from the store wait on one load", async () => {
    const server = await startModelHttpServer(versions);
    lines = [];
    const log = logger();
    const cache = new ModelDiskCache({
      dir: join(dir, "single-flight"),
      maxBytes: 2 ** 30,
      logger: log,
    });
    await cache.open();
    const p = new ModelPool({
      repository: new TieredModelRepository({
        store: new HttpModelStore({ baseUrl: server.url, timeoutMs: 5_000 }),
        cache,
        logger: log,
        stallTimeoutMs: 5_000,
      }),
      sessions: new OrtSessionFactory({ choice: "cpu", logger: log }),
      pipelines: PIPELINE_FACTORIES,
      logger: log,
    });
    const loads: ModelLoadEvent[] = [];
    p.events.on("load", (e) => loads.push(e));
    const asks = await Promise.all(
      Array.from({ length: 12 }, () => p.acquire(model.manifest.name, "c")),
    );
    expect(new Set(asks).size).toBe(1);
    expect(server.requests).toEqual([
      `${model.manifest.name}/c/manifest.json`,
      `${model.manifest.name}/c/model.onnx`,
      `${model.manifest.name}/c/vocab.txt`,
    ]);
    expect(loads.map((l) => l.tier)).toEqual(["store"]);
    expect(messages().filter((m) => m === "model loaded")).toHaveLength(1);
    await p.close();
    await server.close();
  });

  it("refuses a model file that does not match its manifest's sha256", async () => {
    const root = join(dir, "corrupt");
    await writeModelVersion(model, root, model.manifest.version);
    await corruptFile(join(root, model.manifest.name, model.manifest.version, "model.onnx"));
    const p = pool(root);
    const { name, version } = model.manifest;
    await expect(p.acquire(name, version)).rejects.toBeInstanceOf(ModelChecksumError);
    expect(p.loaded()).toEqual([]);
    expect(p.events.counters.failures).toBe(1);
    await p.close();
  });

  it("knows the models on disk without loading them, and nothing else", async () => {
    const p = pool(model.modelsDir);
    const { name, version } = model.manifest;
    expect((await p.manifestOf(name, version))?.sha256).toBe(model.manifest.sha256);
    expect(await p.manifestOf(name, "0000-00-00.0")).toBeNull();
    expect(await p.manifestOf("../..", version)).toBeNull();
    expect(p.loaded()).toEqual([]);
    await expect(p.warm([`${name}@0000-00-00.0`])).rejects.toBeInstanceOf(ModelNotFoundError);
    await p.close();
  });

  it("serves several versions of one model side by side", async () => {
    const p = pool(versions);
    const { name } = model.manifest;
    const [a, b] = await Promise.all([p.acquire(name, "a"), p.acquire(name, "b")]);
    expect(p.loaded()).toEqual([`${name}@a`, `${name}@b`]);
    expect([a.ref, b.ref]).toEqual([`${name}@a`, `${name}@b`]);
    const [ra, rb] = await Promise.all([a.run([small(5)]), b.run([small(5)])]);
    // Same weights under two versions: the same request gives the same pixels from each.
    expect(Buffer.from(ra.images[0]!.data).equals(Buffer.from(rb.images[0]!.data))).toBe(true);
    expect(Object.keys(p.stats().hot.footprints).sort()).toEqual([`${name}@a`, `${name}@b`]);
    await p.close();
  });

  it("evicts the least recently used unpinned model to stay within the memory budget", async () => {
    const { name } = model.manifest;
    // Room for two models at their declared size: a (pinned) plus one more.
    const p = pool(versions, { budget: Math.floor(declared * 2.5), memory: blindProbe });
    const evicted: ModelEvictEvent[] = [];
    const loads: ModelLoadEvent[] = [];
    p.events.on("evict", (e) => evicted.push(e));
    p.events.on("load", (e) => loads.push(e));
    await p.warm([`${name}@a`]);
    expect(p.stats().hot).toMatchObject({ pinned: [`${name}@a`], bytes: declared });

    const b = await p.acquire(name, "b");
    expect(p.loaded()).toEqual([`${name}@a`, `${name}@b`]);
    await p.acquire(name, "c");
    expect(p.loaded()).toEqual([`${name}@a`, `${name}@c`]);
    expect(evicted).toEqual([{ ref: `${name}@b`, tier: "memory", bytes: declared }]);

    // A handle to an evicted model still runs: the model is loaded again (evicting c).
    expect((await b.run([small(1)])).images).toHaveLength(1);
    expect(p.loaded()).toEqual([`${name}@a`, `${name}@b`]);
    expect(evicted.map((e) => e.ref)).toEqual([`${name}@b`, `${name}@c`]);
    expect(p.stats().hot.bytes).toBeLessThanOrEqual(Math.floor(declared * 2.5));

    // The pinned model was never evicted and is a hot hit.
    await p.acquire(name, "a");
    expect(loads.at(-1)).toMatchObject({ ref: `${name}@a`, tier: "hot" });
    expect(loads.filter((l) => l.tier === "disk").map((l) => l.ref)).toEqual([
      `${name}@a`,
      `${name}@b`,
      `${name}@c`,
      `${name}@b`,
    ]);
    expect(p.events.hitRatios().hot).toBeCloseTo(1 / 5, 5);
    await p.close();
  });

  it("keeps a busy model until its batch finishes, then trims back to the budget", async () => {
    const { name } = model.manifest;
    const budget = Math.floor(declared * 1.5);
    // The real pipeline, holding batches whose prompt is "hold" until the test lets them go.
    let letGo!: () => void;
    const held = new Promise<void>((r) => (letGo = r));
    const p = pool(versions, {
      budget,
      memory: blindProbe,
      pipelines: {
        "cppn-text2img": async (source) => {
          const inner = await PIPELINE_FACTORIES["cppn-text2img"](source);
          return {
            manifest: inner.manifest,
            run: async (batch) => {
              if (batch[0]!.prompt === "hold") await held;
              return inner.run(batch);
            },
          };
        },
      },
    });
    const a = await p.acquire(name, "a");
    const running = a.run([{ ...small(3), prompt: "hold" }]);
    await p.acquire(name, "b");
    // a is busy: both are hot, over the budget, for now.
    expect(p.loaded()).toEqual([`${name}@a`, `${name}@b`]);
    letGo();
    expect((await running).images).toHaveLength(1);
    expect(p.loaded()).toEqual([`${name}@b`]);
    expect(p.stats().hot.bytes).toBeLessThanOrEqual(budget);
    await p.close();
  });

  it("refuses what can never fit: a model beside the pinned set, or a pinned set over budget", async () => {
    const { name } = model.manifest;
    const p = pool(versions, { budget: Math.floor(declared * 1.5), memory: blindProbe });
    await p.warm([`${name}@a`]);
    await expect(p.acquire(name, "b")).rejects.toBeInstanceOf(ModelMemoryBudgetError);
    expect(p.loaded()).toEqual([`${name}@a`]);
    await p.close();

    const tight = pool(versions, { budget: Math.floor(declared * 1.5), memory: blindProbe });
    await expect(tight.warm([`${name}@a`, `${name}@b`])).rejects.toThrow(
      /pinned models .* more than the \d+-byte memory budget/,
    );
    await tight.close();
  });

  it("refuses a model whose graph inputs do not match its manifest, naming each difference", async () => {
    // A graph with "tokens" where the manifest declares "token_ids", and a 2-d image output.
    const g = new GraphBuilder();
    g.input({ name: "tokens", type: "int64", shape: ["batch", "tokens"] });
    g.input({ name: "negative_token_ids", type: "int64", shape: ["batch", "neg_tokens"] });
    g.input({ name: "noise", type: "float32", shape: ["batch", 16] });
    const coords = g.input({ name: "coords", type: "float32", shape: ["pixels", 3] });
    g.op("Cast", [coords], { to: 2 }, "image");
    g.output({ name: "image", type: "uint8", shape: ["pixels", 3] });
    const graph = g.encode({
      graphName: "wrong-inputs",
      producerName: "model-pool.test",
      producerVersion: "1",
      docString: "",
      opset: 17,
      irVersion: 8,
    });
    const root = join(dir, "wrong-inputs");
    await writeModelVersion(model, root, "wrong-1", { graph });
    lines = [];
    const p = pool(root);
    const err = await p.acquire(model.manifest.name, "wrong-1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelSignatureError);
    const message = (err as Error).message;
    expect(message).toContain(
      'input "token_ids" is declared but the graph has no such input (it has "tokens", "negative_token_ids", "noise", "coords")',
    );
    expect(message).toContain('graph input "tokens" is not in the manifest');
    expect(message).toContain('output "image" has shape [pixels, 3] in the graph');
    expect((err as ModelSignatureError).code).toBe("model_signature_mismatch");
    expect(p.loaded()).toEqual([]);
    expect(messages()).toContain("model load failed");
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
