import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import type { Logger } from "../log.ts";
import type { ImageRequest, RawImage } from "../pipelines/pipeline.ts";
import type { ModelStore } from "./model-store.ts";
import type { PipelineFactory } from "./pipeline-factories.ts";
import type { SessionFactory } from "./session-factory.ts";

// Keeps model versions hot, keyed by name@version. A load is single-flight and checksummed: the model
// file must match the manifest's sha256 and size before ONNX Runtime sees it. Every loaded model stays
// loaded; tiers and eviction (GPU memory LRU <- disk cache <- object store) plug in at `load` and
// `loaded`.

export interface ModelRun {
  images: RawImage[];
  /** Time spent inside session.run for this batch. */
  sessionMs: number;
}

export interface LoadedModel {
  readonly ref: string;
  readonly manifest: ModelManifest;
  readonly executionProvider: string;
  run(batch: ImageRequest[]): Promise<ModelRun>;
}

export interface ModelPoolOptions {
  store: ModelStore;
  sessions: SessionFactory;
  pipelines: Record<string, PipelineFactory>;
  logger: Logger;
}

export class ModelChecksumError extends Error {
  readonly code = "model_checksum_mismatch";
  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = "ModelChecksumError";
  }
}

export const modelRef = (name: string, version: string) => `${name}@${version}`;

async function fileDigest(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** Wraps a session so the time of each `run` is added to the batch measuring it. */
function timedSession(session: InferenceSession, meter: AsyncLocalStorage<{ ms: number }>) {
  const run = async (...args: Parameters<InferenceSession["run"]>) => {
    const started = performance.now();
    try {
      return await session.run(...args);
    } finally {
      const store = meter.getStore();
      if (store) store.ms += performance.now() - started;
    }
  };
  return new Proxy(session, {
    get: (target, prop, receiver) => (prop === "run" ? run : Reflect.get(target, prop, receiver)),
  });
}

interface Slot {
  model: LoadedModel;
  session: InferenceSession;
}

export class ModelPool {
  private readonly opts: ModelPoolOptions;
  private readonly slots = new Map<string, Slot>();
  private readonly loading = new Map<string, Promise<Slot>>();
  private readonly manifests = new Map<string, ModelManifest>();
  private closed = false;

  constructor(opts: ModelPoolOptions) {
    this.opts = opts;
  }

  /** Loads every listed model (name@version); rejects on the first that cannot be loaded. */
  async warm(refs: readonly string[]): Promise<void> {
    await Promise.all(refs.map((ref) => this.slotOf(ref)));
  }

  /** The model, loading it first when it is not hot. */
  async acquire(name: string, version: string): Promise<LoadedModel> {
    return (await this.slotOf(modelRef(name, version))).model;
  }

  /** The manifest of a model this node can serve (hot or on disk), or null. */
  async manifestOf(name: string, version: string): Promise<ModelManifest | null> {
    const ref = modelRef(name, version);
    const hot = this.slots.get(ref);
    if (hot) return hot.model.manifest;
    const known = this.manifests.get(ref);
    if (known) return known;
    const found = (await this.opts.store.find(name, version))?.manifest ?? null;
    // Only hits are cached: a model copied in later is found on the next request.
    if (found) this.manifests.set(ref, found);
    return found;
  }

  /** name@version of every hot model. */
  loaded(): string[] {
    return [...this.slots.keys()].sort();
  }

  /** Providers the hot models run on, e.g. "cpu" or "cuda"; "none" before the first load. */
  executionProvider(): string {
    const providers = new Set([...this.slots.values()].map((s) => s.model.executionProvider));
    return providers.size === 0 ? "none" : [...providers].sort().join(",");
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.loading.values());
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map((s) => s.session.release()));
  }

  private slotOf(ref: string): Promise<Slot> {
    if (this.closed) return Promise.reject(new Error("model pool is closed"));
    const hot = this.slots.get(ref);
    if (hot) return Promise.resolve(hot);
    let pending = this.loading.get(ref);
    if (!pending) {
      pending = this.load(ref).finally(() => this.loading.delete(ref));
      this.loading.set(ref, pending);
    }
    return pending;
  }

  private async load(ref: string): Promise<Slot> {
    const at = ref.lastIndexOf("@");
    const [name, version] = [ref.slice(0, at), ref.slice(at + 1)];
    const location = at > 0 ? await this.opts.store.find(name, version) : null;
    if (!location) throw new Error(`model ${ref} not found in the model store`);
    const { manifest, dir } = location;
    const path = join(dir, manifest.file);
    const started = performance.now();
    const digest = await fileDigest(path);
    if (digest.sha256 !== manifest.sha256 || digest.bytes !== manifest.bytes) {
      throw new ModelChecksumError(
        path,
        `sha256 ${digest.sha256} (${digest.bytes} bytes) does not match the manifest's ${manifest.sha256} (${manifest.bytes} bytes)`,
      );
    }
    const factory = this.opts.pipelines[manifest.pipeline];
    if (!factory) throw new Error(`model ${ref}: no pipeline for kind ${manifest.pipeline}`);
    const { session, executionProvider } = await this.opts.sessions.create(path);
    const meter = new AsyncLocalStorage<{ ms: number }>();
    let pipeline;
    try {
      pipeline = await factory({ manifest, dir, session: timedSession(session, meter) });
      if (this.closed) throw new Error("model pool is closed");
    } catch (err) {
      await session.release();
      throw err;
    }
    const model: LoadedModel = {
      ref,
      manifest,
      executionProvider,
      run: (batch) => {
        const measured = { ms: 0 };
        return meter.run(measured, async () => {
          const images = await pipeline.run(batch);
          return { images, sessionMs: measured.ms };
        });
      },
    };
    const slot = { model, session };
    this.slots.set(ref, slot);
    this.opts.logger.info("model loaded", {
      model: ref,
      execution_provider: executionProvider,
      load_ms: Math.round(performance.now() - started),
    });
    return slot;
  }
}
