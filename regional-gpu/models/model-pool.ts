import { AsyncLocalStorage } from "node:async_hooks";
import { join } from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import type { Logger } from "../log.ts";
import type { ImageRequest, Pipeline, RawImage } from "../pipelines/pipeline.ts";
import { ByteLru } from "./byte-lru.ts";
import { ProcessMemoryProbe, type MemoryProbe } from "./memory-probe.ts";
import {
  ModelMemoryBudgetError,
  ModelNotFoundError,
  ModelPoolClosedError,
  ModelWarmUpError,
  modelErrorCode,
} from "./model-errors.ts";
import { ModelPoolEvents } from "./model-pool-events.ts";
import {
  declaredGraphBytes,
  modelRef,
  parseModelRef,
  type DiskTierStats,
  type ModelRepository,
} from "./model-repository.ts";
import { checkSignature } from "./model-signature.ts";
import type { PipelineFactory } from "./pipeline-factories.ts";
import type { SessionFactory } from "./session-factory.ts";

// The hot tier: loaded ONNX Runtime sessions keyed by name@version (so versions live side by side),
// in an LRU bounded by a memory budget on the device the sessions run on. Each model's footprint is
// measured (memory probe before and after session creation plus a warm-up run, one load at a time so
// deltas are attributable), with the declared graph bytes as a floor: an allocator reusing pages
// freed by an evicted model can hide a new model's weights from a before/after reading. The pinned
// set (WARM_MODELS) is never evicted. A load is single-flight: concurrent callers share it.

export { ModelChecksumError } from "./model-errors.ts";
export { modelRef } from "./model-repository.ts";

export interface ModelRun {
  images: RawImage[];
  /** Time spent inside session.run for this batch. */
  sessionMs: number;
}

export interface LoadedModel {
  readonly ref: string;
  readonly manifest: ModelManifest;
  readonly executionProvider: string;
  /** Runs a batch; a model evicted since it was acquired is loaded again first. */
  run(batch: ImageRequest[]): Promise<ModelRun>;
}

export interface ModelPoolOptions {
  repository: ModelRepository;
  sessions: SessionFactory;
  pipelines: Record<string, PipelineFactory>;
  logger: Logger;
  /** Bytes the hot models may hold on their device (MODEL_MEMORY_BUDGET_BYTES); default: no limit. */
  memoryBudgetBytes?: number;
  memory?: MemoryProbe;
  events?: ModelPoolEvents;
}

export interface ModelPoolStats {
  hot: {
    models: string[];
    pinned: string[];
    bytes: number;
    budgetBytes: number;
    /** Measured footprint of each hot model. */
    footprints: Record<string, number>;
  };
  disk: DiskTierStats | null;
}

interface Slot {
  model: LoadedModel;
  session: InferenceSession;
  pipeline: Pipeline;
  meter: AsyncLocalStorage<{ ms: number }>;
  footprintBytes: number;
  /** Batches running now; a busy slot is not evicted. */
  active: number;
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

/** One image at the smallest size the model allows. */
function warmUpRequest(manifest: ModelManifest): ImageRequest {
  const { min_side, multiple_of } = manifest.limits;
  const side = Math.ceil(min_side / multiple_of) * multiple_of;
  return { prompt: "warm-up", seed: 0, width: side, height: side };
}

export class ModelPool {
  readonly events: ModelPoolEvents;
  /** Where models come from below the hot tier (disk cache and store, or MODEL_DIR). */
  readonly repository: ModelRepository;
  private readonly opts: ModelPoolOptions;
  private readonly budget: number;
  private readonly memory: MemoryProbe;
  private readonly slots = new Map<string, Slot>();
  private readonly lru = new ByteLru<string>();
  private readonly loading = new Map<string, Promise<Slot>>();
  private readonly manifests = new Map<string, ModelManifest>();
  private readonly pinned = new Set<string>();
  /** Last measured footprint per model, to make room before it is loaded again. */
  private readonly footprints = new Map<string, number>();
  /** Serialises session creation so each before/after memory reading belongs to one model. */
  private gate: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(opts: ModelPoolOptions) {
    this.opts = opts;
    this.repository = opts.repository;
    this.budget = opts.memoryBudgetBytes ?? Number.POSITIVE_INFINITY;
    this.memory = opts.memory ?? new ProcessMemoryProbe();
    this.events = opts.events ?? new ModelPoolEvents();
  }

  /**
   * Loads and pins every listed model (name@version); rejects on the first that cannot be loaded,
   * or when the pinned set does not fit the budget.
   */
  async warm(refs: readonly string[]): Promise<void> {
    for (const ref of refs) this.pinned.add(ref);
    for (const ref of refs) this.lru.pin(ref);
    await Promise.all(refs.map((ref) => this.slotOf(ref)));
    const pinnedBytes = this.lru.pinnedBytes();
    if (pinnedBytes > this.budget) {
      throw new ModelMemoryBudgetError(
        `the pinned models (${refs.join(", ")}) measure ${pinnedBytes} bytes, more than the ${this.budget}-byte memory budget`,
      );
    }
  }

  /** The model, loading it first when it is not hot. */
  async acquire(name: string, version: string): Promise<LoadedModel> {
    const ref = modelRef(name, version);
    const started = performance.now();
    const hot = this.slots.get(ref);
    if (!hot) return (await this.slotOf(ref)).model;
    this.lru.touch(ref);
    const seconds = (performance.now() - started) / 1000;
    this.events.emit("load", { ref, tier: "hot", seconds });
    return hot.model;
  }

  /**
   * Starts loading a model in the background, for the edge's warm-ahead request: "hot" when it is
   * loaded already, "loading" when a load runs, null when no such version exists. Failures are
   * logged and emitted, never thrown.
   */
  async prefetch(name: string, version: string): Promise<"hot" | "loading" | null> {
    const ref = modelRef(name, version);
    if (this.slots.has(ref)) return "hot";
    if (!(await this.manifestOf(name, version))) return null;
    if (this.slots.has(ref)) return "hot";
    this.slotOf(ref).catch(() => {});
    return "loading";
  }

  /** The manifest of a model this node can serve (hot, on disk or in the store), or null. */
  async manifestOf(name: string, version: string): Promise<ModelManifest | null> {
    const ref = modelRef(name, version);
    const known = this.slots.get(ref)?.model.manifest ?? this.manifests.get(ref);
    if (known) return known;
    const found = await this.opts.repository.manifest(name, version);
    // Only hits are kept: a version published later is found on a later request.
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

  stats(): ModelPoolStats {
    const footprints: Record<string, number> = {};
    for (const [ref, slot] of this.slots) footprints[ref] = slot.footprintBytes;
    return {
      hot: {
        models: this.loaded(),
        pinned: [...this.pinned].sort(),
        bytes: this.lru.totalBytes,
        budgetBytes: this.budget,
        footprints,
      },
      disk: this.opts.repository.diskStats?.() ?? null,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.loading.values());
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map((s) => s.session.release()));
    await this.opts.repository.close?.();
  }

  private slotOf(ref: string): Promise<Slot> {
    if (this.closed) return Promise.reject(new ModelPoolClosedError());
    const hot = this.slots.get(ref);
    if (hot) return Promise.resolve(hot);
    let pending = this.loading.get(ref);
    if (!pending) {
      pending = this.load(ref)
        .catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          const code = modelErrorCode(err) ?? "model_load_failed";
          this.opts.logger.error("model load failed", { model: ref, code, err });
          this.events.emit("failure", { ref, code, message });
          throw err;
        })
        .finally(() => this.loading.delete(ref));
      this.loading.set(ref, pending);
    }
    return pending;
  }

  private async load(ref: string): Promise<Slot> {
    const started = performance.now();
    const parsed = parseModelRef(ref);
    const manifest = parsed && (await this.manifestOf(...parsed));
    if (!manifest) throw new ModelNotFoundError(ref);
    const files = await this.opts.repository.materialize(manifest);
    let slot: Slot;
    try {
      this.makeRoom(ref, this.footprints.get(ref) ?? declaredGraphBytes(manifest));
      slot = await this.exclusive(() => this.createSlot(ref, manifest, files.dir));
    } finally {
      files.release();
    }
    if (this.closed) {
      await slot.session.release();
      throw new ModelPoolClosedError();
    }
    this.footprints.set(ref, slot.footprintBytes);
    this.slots.set(ref, slot);
    this.lru.set(ref, slot.footprintBytes, { pinned: this.pinned.has(ref) });
    this.trim(ref);
    const seconds = (performance.now() - started) / 1000;
    this.events.emit("load", {
      ref,
      tier: files.tier,
      seconds,
      footprintBytes: slot.footprintBytes,
    });
    this.opts.logger.info("model loaded", {
      model: ref,
      tier: files.tier,
      execution_provider: slot.model.executionProvider,
      load_ms: Math.round(seconds * 1000),
      footprint_bytes: slot.footprintBytes,
      hot_bytes: this.lru.totalBytes,
    });
    return slot;
  }

  /** Runs `fn` after every earlier call has finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.gate.then(fn, fn);
    this.gate = result.catch(() => {});
    return result;
  }

  private async createSlot(ref: string, manifest: ModelManifest, dir: string): Promise<Slot> {
    const factory = this.opts.pipelines[manifest.pipeline];
    if (!factory) throw new Error(`model ${ref}: no pipeline for kind ${manifest.pipeline}`);
    const before = await this.memory.read();
    const { session, executionProvider } = await this.opts.sessions.create(
      join(dir, manifest.file),
    );
    try {
      checkSignature(ref, manifest, session);
      const meter = new AsyncLocalStorage<{ ms: number }>();
      const pipeline = await factory({ manifest, dir, session: timedSession(session, meter) });
      try {
        await pipeline.run([warmUpRequest(manifest)]);
      } catch (err) {
        throw new ModelWarmUpError(ref, err);
      }
      const after = await this.memory.read();
      const device =
        executionProvider in after && executionProvider in before ? executionProvider : "cpu";
      const measured = Math.max(0, (after[device] ?? 0) - (before[device] ?? 0));
      const model: LoadedModel = {
        ref,
        manifest,
        executionProvider,
        run: (batch) => this.run(ref, batch),
      };
      return {
        model,
        session,
        pipeline,
        meter,
        footprintBytes: Math.max(measured, declaredGraphBytes(manifest)),
        active: 0,
      };
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  private async run(ref: string, batch: ImageRequest[]): Promise<ModelRun> {
    const slot = this.slots.get(ref) ?? (await this.slotOf(ref));
    // Counted before any await, so no load in between can evict it.
    slot.active += 1;
    this.lru.touch(ref);
    const measured = { ms: 0 };
    try {
      const images = await slot.meter.run(measured, () => slot.pipeline.run(batch));
      return { images, sessionMs: measured.ms };
    } finally {
      slot.active -= 1;
      if (this.lru.totalBytes > this.budget) this.trim(null);
    }
  }

  /** Evicts idle unpinned models until `bytes` more fit; refuses a model that can never fit. */
  private makeRoom(ref: string, bytes: number): void {
    if (this.budget === Number.POSITIVE_INFINITY) return;
    const pinnedBytes = this.lru.pinnedBytes();
    if (!this.pinned.has(ref) && pinnedBytes + bytes > this.budget) {
      throw new ModelMemoryBudgetError(
        `model ${ref} needs about ${bytes} bytes; the memory budget is ${this.budget} bytes and ${pinnedBytes} are pinned`,
      );
    }
    this.evict(this.lru.victims(this.budget, bytes, (k) => this.busy(k)).keys);
  }

  /** After a load or a run: evicts idle unpinned models (never `keep`) while over the budget. */
  private trim(keep: string | null): void {
    const { keys, fits } = this.lru.victims(this.budget, 0, (k) => k === keep || this.busy(k));
    this.evict(keys);
    if (!fits) {
      this.opts.logger.warn(
        "hot models exceed the memory budget: the others are pinned, busy or just loaded",
        {
          hot_bytes: this.lru.totalBytes,
          budget_bytes: this.budget,
        },
      );
    }
  }

  private busy(ref: string): boolean {
    return (this.slots.get(ref)?.active ?? 0) > 0;
  }

  private evict(refs: readonly string[]): void {
    for (const ref of refs) {
      const slot = this.slots.get(ref);
      const bytes = this.lru.bytesOf(ref) ?? 0;
      this.lru.delete(ref);
      if (!slot) continue;
      this.slots.delete(ref);
      void slot.session
        .release()
        .catch((err: unknown) =>
          this.opts.logger.error("session release failed", { model: ref, err }),
        );
      this.opts.logger.info("model evicted from memory", { model: ref, bytes });
      this.events.emit("evict", { ref, tier: "memory", bytes });
    }
  }
}
