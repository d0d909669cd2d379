import { Worker } from "node:worker_threads";
import { Tensor, type InferenceSession } from "onnxruntime-node";
import type { ExecutionProviderChoice } from "../config.ts";
import type { Logger } from "../log.ts";
import type { CreatedSession, SessionFactory } from "../models/session-factory.ts";
import type {
  CreatedReply,
  ExecutorReply,
  ExecutorRequest,
  WireError,
  WireTensor,
} from "./executor-protocol.ts";

// Sessions that live on the node's inference executor thread (executor-worker.ts) and look like
// ordinary ONNX Runtime sessions to the model pool and pipelines: the main thread stays free for
// intake, events, heartbeats and signals while a batch runs. One executor per factory runs one
// request at a time. If the thread dies, pending runs fail and the next create starts a new one.

const WORKER_URL = new URL("./executor-worker.ts", import.meta.url);

export class ExecutorError extends Error {
  readonly code: string;
  constructor(error: WireError) {
    super(error.message);
    this.name = error.name;
    this.code = error.code ?? "inference_executor_error";
    if (error.stack) this.stack = error.stack;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

type Call = { op: ExecutorRequest["op"] } & Record<string, unknown>;

class Executor {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Error | null = null;

  constructor(logger: Logger, onExit: (executor: Executor) => void) {
    this.worker = new Worker(WORKER_URL);
    this.worker.unref();
    this.worker.on("message", (reply: ExecutorReply) => {
      if ("log" in reply) return logger[reply.log.level](reply.log.msg, reply.log.fields);
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.ok) pending?.resolve(reply.result);
      else pending?.reject(new ExecutorError(reply.error));
    });
    this.worker.on("error", (err) => logger.error("inference executor failed", { err }));
    this.worker.on("exit", (code) => {
      this.exited = new Error(`inference executor thread exited (code ${code})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
      onExit(this);
    });
  }

  get alive(): boolean {
    return this.exited === null;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  call<T>(call: Call): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    // Referenced while work is outstanding, so a pending run keeps the process alive.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...call, id });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

const toWire = (value: InferenceSession.FeedsType[string]): WireTensor => {
  const tensor = value as Tensor;
  return { type: tensor.type, dims: tensor.dims, data: tensor.data };
};

/** An InferenceSession whose work happens on the executor thread. */
class WorkerSession implements InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
  private readonly executor: Executor;
  private readonly id: number;
  private released = false;

  constructor(executor: Executor, created: CreatedReply) {
    this.executor = executor;
    this.id = created.session;
    this.inputNames = created.inputNames;
    this.outputNames = created.outputNames;
    this.inputMetadata = created.inputMetadata;
    this.outputMetadata = created.outputMetadata;
  }

  run(
    feeds: InferenceSession.FeedsType,
    options?: InferenceSession.RunOptions,
  ): Promise<InferenceSession.ReturnType>;
  run(
    feeds: InferenceSession.FeedsType,
    fetches: InferenceSession.FetchesType,
    options?: InferenceSession.RunOptions,
  ): Promise<InferenceSession.ReturnType>;
  async run(
    feeds: InferenceSession.FeedsType,
    second?: InferenceSession.FetchesType | InferenceSession.RunOptions,
    third?: InferenceSession.RunOptions,
  ): Promise<InferenceSession.ReturnType> {
    if (this.released) throw new Error("inference session was released");
    const fetches = Array.isArray(second)
      ? (second as readonly string[])
      : second && Object.values(second).every((v) => v === null)
        ? Object.keys(second)
        : undefined;
    const options = fetches ? third : (second as InferenceSession.RunOptions | undefined);
    const wireFeeds: Record<string, WireTensor> = {};
    for (const [name, value] of Object.entries(feeds)) wireFeeds[name] = toWire(value);
    const outputs = await this.executor.call<Record<string, WireTensor>>({
      op: "run",
      session: this.id,
      feeds: wireFeeds,
      ...(fetches && { fetches }),
      ...(options && { options }),
    });
    const result: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(outputs)) {
      result[name] = new Tensor(t.type, t.data as never, t.dims);
    }
    return result;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.executor.alive) await this.executor.call({ op: "release", session: this.id });
  }

  startProfiling(): void {}
  endProfiling(): void {}
}

export interface WorkerSessionFactoryOptions {
  choice: ExecutionProviderChoice;
  logger: Logger;
}

/** A SessionFactory whose sessions run on one executor thread, off the event loop. */
export class WorkerSessionFactory implements SessionFactory {
  private readonly opts: WorkerSessionFactoryOptions;
  private executor: Executor | null = null;

  constructor(opts: WorkerSessionFactoryOptions) {
    this.opts = opts;
  }

  async create(modelPath: string): Promise<CreatedSession> {
    const executor = (this.executor ??= new Executor(this.opts.logger, (gone) => {
      if (this.executor === gone) this.executor = null;
    }));
    const created = await executor.call<CreatedReply>({
      op: "create",
      modelPath,
      choice: this.opts.choice,
    });
    return {
      session: new WorkerSession(executor, created),
      executionProvider: created.executionProvider,
    };
  }

  /** Whether a request (a run, a load) is executing or waiting on the executor thread. */
  busy(): boolean {
    return this.executor?.busy ?? false;
  }

  /**
   * Stops the executor thread; sessions still open fail from then on. Not while busy: a thread torn
   * down during a native run aborts the whole process, so a busy executor is left to the process's
   * end (see DrainReport.executorBusy).
   */
  async close(): Promise<void> {
    const executor = this.executor;
    if (!executor || executor.busy) return;
    this.executor = null;
    await executor.terminate();
  }
}
