import { Tensor, type InferenceSession } from "onnxruntime-node";
import type { SafetyScores } from "../../contracts/region-protocol.ts";
import type { Logger } from "../log.ts";
import {
  classifierId,
  ensureClassifierModel,
} from "../model-build/classifiers/build-classifiers.ts";
import type { SessionFactory } from "../models/session-factory.ts";
import {
  CLASSIFIER_IO,
  CLASSIFIER_SIDE,
  OUTPUT_ORDER,
  type ClassifierModel,
} from "./classifier-options.ts";
import { ClassifierUnavailableError, type SafetyClassifier } from "./safety-classifier.ts";

// An nsfwjs classifier converted to ONNX (model-build/classifiers/), run by ONNX Runtime through a
// SessionFactory: the node's execution provider (CUDA where the generator runs on CUDA, else CPU),
// on an executor thread, never on the event loop. One run at a time; batches that arrive while one
// runs go together in the next run. A run that fails fails its batches, and the session is loaded
// again for the next one (an executor thread that died takes its sessions with it).

export interface OnnxClassifierOptions {
  model: ClassifierModel;
  sessions: SessionFactory;
  /** Where converted classifiers are cached (MODERATION_MODEL_DIR). */
  dir: string;
  logger: Logger;
  /** Most images in one run (default 32). */
  maxBatch?: number;
}

interface Task {
  images: readonly Uint8Array[];
  resolve(scores: SafetyScores[]): void;
  reject(err: Error): void;
}

interface Loaded {
  session: InferenceSession;
  executionProvider: string;
}

/** float32 softmax can land a hair outside [0, 1]. */
const clampUnit = (x: number) => Math.min(1, Math.max(0, x));

export class OnnxClassifier implements SafetyClassifier {
  readonly side: number;
  private readonly opts: Required<OnnxClassifierOptions>;
  private readonly waiting: Task[] = [];
  private loading: Promise<Loaded> | null = null;
  /** The run in progress, if any. */
  private running: Promise<void> | null = null;
  private closed = false;
  private classifier: string;
  private provider: string | null = null;

  constructor(opts: OnnxClassifierOptions) {
    this.opts = { maxBatch: 32, ...opts };
    this.side = CLASSIFIER_SIDE[opts.model];
    this.classifier = classifierId(opts.model);
  }

  get id(): string {
    return this.classifier;
  }

  /** The provider the session runs on ("cuda" or "cpu"); null until loaded. */
  get executionProvider(): string | null {
    return this.provider;
  }

  /** Loads the model (converting it first if needed); classify() does so on first use. */
  async load(): Promise<void> {
    await this.session();
  }

  classify(images: readonly Uint8Array[]): Promise<SafetyScores[]> {
    const bytes = this.side * this.side * 3;
    if (images.some((image) => image.byteLength !== bytes)) {
      const { side } = this;
      return Promise.reject(new Error(`classifier input must be ${side}x${side} RGB`));
    }
    if (this.closed) return Promise.reject(new ClassifierUnavailableError("classifier is closed"));
    if (images.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ images, resolve, reject });
      this.dispatch();
    });
  }

  /** Rejects waiting batches and releases the session; a running batch finishes first. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.waiting.splice(0)) {
      task.reject(new ClassifierUnavailableError("classifier is closed"));
    }
    await this.running;
    const loading = this.loading;
    this.loading = null;
    const loaded = await loading?.catch(() => null);
    await loaded?.session.release().catch(() => {});
  }

  private session(): Promise<Loaded> {
    if (this.closed) return Promise.reject(new ClassifierUnavailableError("classifier is closed"));
    if (!this.loading) {
      const loading = this.open();
      this.loading = loading;
      // A failed load is tried again by the next batch.
      loading.catch(() => {
        if (this.loading === loading) this.loading = null;
      });
    }
    return this.loading;
  }

  private async open(): Promise<Loaded> {
    const started = performance.now();
    const { model, dir, sessions, logger } = this.opts;
    try {
      const built = await ensureClassifierModel(model, dir, (line) => logger.info(line));
      const { session, executionProvider } = await sessions.create(built.path);
      // One run before the first image: ONNX Runtime allocates and picks kernels on its first run.
      await session
        .run(this.feeds([new Uint8Array(this.side * this.side * 3)]))
        .catch(async (err) => {
          await session.release().catch(() => {});
          throw err;
        });
      this.classifier = built.manifest.classifier;
      this.provider = executionProvider;
      logger.info("safety classifier ready", {
        classifier: this.classifier,
        execution_provider: executionProvider,
        load_ms: Math.round(performance.now() - started),
      });
      return { session, executionProvider };
    } catch (err) {
      logger.error("safety classifier could not be loaded", { model, err });
      throw new ClassifierUnavailableError(
        `classifier ${model} could not be loaded: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  private feeds(images: readonly Uint8Array[]): Record<string, Tensor> {
    const bytes = this.side * this.side * 3;
    const pixels = new Uint8Array(images.length * bytes);
    images.forEach((image, i) => pixels.set(image, i * bytes));
    const dims = [images.length, this.side, this.side, 3];
    return { [CLASSIFIER_IO.input]: new Tensor("uint8", pixels, dims) };
  }

  /** Waiting batches, whole, up to maxBatch images (at least one batch). */
  private nextTasks(): Task[] {
    const tasks: Task[] = [];
    let images = 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (tasks.length > 0 && images + next.images.length > this.opts.maxBatch) break;
      tasks.push(this.waiting.shift()!);
      images += next.images.length;
    }
    return tasks;
  }

  private dispatch(): void {
    if (this.running || this.waiting.length === 0) return;
    const tasks = this.nextTasks();
    this.running = this.run(tasks.flatMap((t) => t.images)).then(
      (scores) => {
        let offset = 0;
        for (const task of tasks) {
          task.resolve(scores.slice(offset, offset + task.images.length));
          offset += task.images.length;
        }
      },
      (err: unknown) => {
        const failure = err instanceof Error ? err : new Error(String(err));
        for (const task of tasks) task.reject(failure);
      },
    );
    void this.running.finally(() => {
      this.running = null;
      this.dispatch();
    });
  }

  private async run(images: readonly Uint8Array[]): Promise<SafetyScores[]> {
    const loaded = await this.session();
    let outputs: InferenceSession.ReturnType;
    try {
      outputs = await loaded.session.run(this.feeds(images));
    } catch (err) {
      // Load afresh for the next batch: the session may have gone with its executor thread.
      this.loading = null;
      void loaded.session.release().catch(() => {});
      throw new Error(`safety classifier failed: ${(err as Error).message}`, { cause: err });
    }
    const probabilities = outputs[CLASSIFIER_IO.output];
    const classes = OUTPUT_ORDER.length;
    if (!probabilities || probabilities.dims.join() !== [images.length, classes].join()) {
      throw new Error(
        `safety classifier output is [${probabilities?.dims}], expected [${images.length}, ${classes}]`,
      );
    }
    const values = probabilities.data as Float32Array;
    return images.map((_, i) => {
      const entries = OUTPUT_ORDER.map((c, k) => [c, clampUnit(values[i * classes + k]!)] as const);
      return Object.fromEntries(entries) as SafetyScores;
    });
  }
}
