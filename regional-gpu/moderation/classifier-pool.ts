import { Worker } from "node:worker_threads";
import type { SafetyScores } from "../../contracts/region-protocol.ts";
import type { Logger } from "../log.ts";
import {
  CLASSIFIER_SIDE,
  type ClassifierBackend,
  type ClassifierModel,
} from "./classifier-options.ts";
import type { ClassifierWorkerData, ScoreRequest, WorkerMessage } from "./worker-protocol.ts";

// Runs the safety classifier on worker threads so that inference never blocks the event loop. Images
// waiting when a worker frees up go to it as one batch (never held back to fill one). A worker that
// dies fails its batch and is replaced. Idle workers are unref'd: a pool never keeps a process alive.

export interface SafetyClassifier {
  /** Which classifier judges, e.g. "nsfwjs/MobileNetV2@4.4.0". */
  readonly id: string;
  readonly backend: ClassifierBackend;
  /** Side of the square input. */
  readonly side: number;
  /** Scores one side x side interleaved RGB image. */
  classify(pixels: Uint8Array): Promise<SafetyScores>;
}

export interface ClassifierPoolOptions {
  model: ClassifierModel;
  backend: ClassifierBackend;
  workers: number;
  /** Most images sent to a worker at once. */
  maxBatch?: number;
  logger: Logger;
  /** The worker script; another implementation of the worker protocol in tests. */
  workerUrl?: URL;
}

export class ClassifierUnavailableError extends Error {
  readonly code = "classifier_unavailable";
  override readonly name = "ClassifierUnavailableError";
}

const WORKER_URL = new URL("./classifier-worker.ts", import.meta.url);

interface Task {
  pixels: Uint8Array;
  resolve(scores: SafetyScores): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  batch: { id: number; tasks: Task[] } | null;
}

export class ClassifierPool implements SafetyClassifier {
  readonly backend: ClassifierBackend;
  readonly side: number;
  /** Settles when every first worker has loaded the model (or one failed to). */
  readonly ready: Promise<void>;
  private readonly inputBytes: number;
  private readonly opts: Required<ClassifierPoolOptions>;
  private readonly slots = new Set<Slot>();
  /** Every worker, loading or loaded, so that close() stops them all. */
  private readonly workers = new Set<Worker>();
  private readonly waiting: Task[] = [];
  private spawning = 0;
  private nextId = 1;
  private closed = false;
  private classifierId = "";

  /** Starts the workers and resolves once every one has loaded the model. */
  static async start(opts: ClassifierPoolOptions): Promise<ClassifierPool> {
    const pool = ClassifierPool.launch(opts);
    try {
      await pool.ready;
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Starts the workers and answers at once; classifications wait for a loaded worker. */
  static launch(opts: ClassifierPoolOptions): ClassifierPool {
    return new ClassifierPool(opts);
  }

  private constructor(opts: ClassifierPoolOptions) {
    this.opts = { maxBatch: 8, workerUrl: WORKER_URL, ...opts };
    this.backend = opts.backend;
    this.side = CLASSIFIER_SIDE[opts.model];
    this.inputBytes = this.side * this.side * 3;
    this.ready = Promise.all(Array.from({ length: opts.workers }, () => this.spawn())).then(
      () => {},
    );
    // Observed here so that a pool nobody waits on does not raise an unhandled rejection.
    this.ready.catch(() => {});
  }

  get id(): string {
    return this.classifierId;
  }

  /** Images waiting for a worker. */
  queued(): number {
    return this.waiting.length;
  }

  classify(pixels: Uint8Array): Promise<SafetyScores> {
    if (pixels.byteLength !== this.inputBytes) {
      const { side } = this;
      return Promise.reject(new Error(`classifier input must be ${side}x${side} RGB`));
    }
    if (this.closed) return Promise.reject(new ClassifierUnavailableError("classifier is closed"));
    if (this.slots.size === 0 && this.spawning === 0) {
      return Promise.reject(
        new ClassifierUnavailableError("no safety classifier worker is running"),
      );
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ pixels, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates the workers; waiting and running classifications are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    this.rejectWaiting("classifier is closed");
    await Promise.all([...this.workers].map((worker) => worker.terminate()));
  }

  private spawn(): Promise<void> {
    this.spawning++;
    const data: ClassifierWorkerData = { model: this.opts.model, backend: this.opts.backend };
    const worker = new Worker(this.opts.workerUrl, { workerData: data });
    this.workers.add(worker);
    const slot: Slot = { worker, batch: null };
    return new Promise<void>((ready, failed) => {
      let started = false;
      worker.on("message", (message: WorkerMessage) => {
        if (message.type === "ready") {
          started = true;
          this.spawning--;
          this.classifierId = message.classifier;
          this.opts.logger.info("safety classifier worker ready", {
            classifier: message.classifier,
            backend: this.backend,
            load_ms: Math.round(message.loadMs),
          });
          if (this.closed) {
            void worker.terminate();
          } else {
            this.slots.add(slot);
            worker.unref();
            this.dispatch();
          }
          ready();
        } else {
          this.settle(slot, message);
        }
      });
      worker.on("error", (err) => {
        if (!started) failed(err);
        else this.opts.logger.error("safety classifier worker crashed", { err });
      });
      worker.on("exit", (code) => {
        this.workers.delete(worker);
        if (!started) {
          this.spawning--;
          failed(
            new ClassifierUnavailableError(`classifier worker exited (${code}) while loading`),
          );
          this.rejectIfNoWorkers();
          return;
        }
        this.slots.delete(slot);
        slot.batch?.tasks.forEach((t) =>
          t.reject(new ClassifierUnavailableError(`classifier worker exited (${code})`)),
        );
        if (this.closed) return;
        this.spawn().catch((err: unknown) =>
          this.opts.logger.error("safety classifier worker could not be replaced", { err }),
        );
      });
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.waiting.length === 0) return;
      if (slot.batch) continue;
      const tasks = this.waiting.splice(0, this.opts.maxBatch);
      const pixels = new Uint8Array(tasks.length * this.inputBytes);
      tasks.forEach((t, i) => pixels.set(t.pixels, i * this.inputBytes));
      const request: ScoreRequest = { id: this.nextId++, pixels, count: tasks.length };
      slot.batch = { id: request.id, tasks };
      slot.worker.ref();
      slot.worker.postMessage(request, [pixels.buffer]);
    }
  }

  private settle(slot: Slot, message: Exclude<WorkerMessage, { type: "ready" }>): void {
    const batch = slot.batch;
    if (!batch || batch.id !== message.id) return;
    slot.batch = null;
    slot.worker.unref();
    if (message.type === "scores") {
      batch.tasks.forEach((t, i) => t.resolve(message.scores[i]!));
    } else {
      const err = new Error(`safety classifier failed: ${message.message}`);
      batch.tasks.forEach((t) => t.reject(err));
    }
    this.dispatch();
  }

  /** With no worker alive and none starting, waiting images would wait forever. */
  private rejectIfNoWorkers(): void {
    if (this.slots.size === 0 && this.spawning === 0) {
      this.rejectWaiting("no safety classifier worker is running");
    }
  }

  private rejectWaiting(message: string): void {
    for (const task of this.waiting.splice(0)) {
      task.reject(new ClassifierUnavailableError(message));
    }
  }
}

/**
 * A pool started by its first classification, for a classifier rarely needed: it costs no memory or
 * start-up time until then. A pool that fails to load is dropped, so the next call tries again.
 */
export class LazyClassifierPool implements SafetyClassifier {
  readonly backend: ClassifierBackend;
  readonly side: number;
  private readonly opts: ClassifierPoolOptions;
  private pool: ClassifierPool | null = null;
  private closed = false;

  constructor(opts: ClassifierPoolOptions) {
    this.opts = opts;
    this.backend = opts.backend;
    this.side = CLASSIFIER_SIDE[opts.model];
  }

  get id(): string {
    return this.pool?.id ?? "";
  }

  classify(pixels: Uint8Array): Promise<SafetyScores> {
    if (this.closed) return Promise.reject(new ClassifierUnavailableError("classifier is closed"));
    if (!this.pool) {
      const pool = ClassifierPool.launch(this.opts);
      this.opts.logger.info("loading the confirming classifier on first use", {
        model: this.opts.model,
      });
      pool.ready.catch((err: unknown) => {
        this.opts.logger.error("classifier could not be loaded", { model: this.opts.model, err });
        if (this.pool === pool) this.pool = null;
        void pool.close();
      });
      this.pool = pool;
    }
    return this.pool.classify(pixels);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
  }
}
