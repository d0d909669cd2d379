import { parentPort } from "node:worker_threads";
import { Tensor, type InferenceSession } from "onnxruntime-node";
import type { Logger } from "../log.ts";
import { OrtSessionFactory } from "../models/session-factory.ts";
import type { ExecutorReply, ExecutorRequest, WireError, WireTensor } from "./executor-protocol.ts";

// The inference executor thread: owns the node's ONNX Runtime sessions and runs them here, because
// onnxruntime-node's session.run is synchronous native code on the calling thread. Run on the main
// thread it would stall HTTP intake, heartbeats, job events and signal handling for a whole batch.

const port = parentPort;
if (!port) throw new Error("executor-worker.ts must run as a worker thread");

const post = (reply: ExecutorReply, transfer: ArrayBuffer[] = []) =>
  port.postMessage(reply, transfer);

const logger: Logger = {
  debug: (msg, fields) => post({ log: { level: "debug", msg, ...(fields && { fields }) } }),
  info: (msg, fields) => post({ log: { level: "info", msg, ...(fields && { fields }) } }),
  warn: (msg, fields) => post({ log: { level: "warn", msg, ...(fields && { fields }) } }),
  error: (msg, fields) => post({ log: { level: "error", msg, ...(fields && { fields }) } }),
  child: () => logger,
};

/** One factory per choice, so "CUDA unavailable" is found out (and logged) once per node. */
const factories = new Map<string, OrtSessionFactory>();
const sessions = new Map<number, InferenceSession>();
let nextSession = 1;

function wireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: "Error", message: String(err) };
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    message: err.message,
    ...(typeof code === "string" && { code }),
    ...(err.stack !== undefined && { stack: err.stack }),
  };
}

const sessionOf = (id: number) => {
  const session = sessions.get(id);
  if (!session) throw new Error(`inference session ${id} is not open`);
  return session;
};

/** An output's data, and its buffer when it can be handed over whole instead of copied. */
function wireOutput(tensor: Tensor): { wire: WireTensor; transfer: ArrayBuffer | null } {
  const data = tensor.data;
  const wire = { type: tensor.type, dims: tensor.dims, data };
  if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer) {
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (whole) return { wire, transfer: data.buffer };
  }
  return { wire, transfer: null };
}

async function handle(request: ExecutorRequest): Promise<void> {
  switch (request.op) {
    case "create": {
      let factory = factories.get(request.choice);
      if (!factory) {
        factory = new OrtSessionFactory({ choice: request.choice, logger });
        factories.set(request.choice, factory);
      }
      const { session, executionProvider } = await factory.create(request.modelPath);
      const id = nextSession++;
      sessions.set(id, session);
      post({
        id: request.id,
        ok: true,
        result: {
          session: id,
          executionProvider,
          inputNames: session.inputNames,
          outputNames: session.outputNames,
          inputMetadata: session.inputMetadata,
          outputMetadata: session.outputMetadata,
        },
      });
      return;
    }
    case "run": {
      const session = sessionOf(request.session);
      const feeds: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(request.feeds)) {
        feeds[name] = new Tensor(t.type, t.data as never, t.dims);
      }
      const outputs = request.fetches
        ? await session.run(feeds, request.fetches, request.options)
        : await session.run(feeds, request.options);
      const result: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, value] of Object.entries(outputs)) {
        const { wire, transfer: buffer } = wireOutput(value as Tensor);
        result[name] = wire;
        if (buffer && !transfer.includes(buffer)) transfer.push(buffer);
      }
      post({ id: request.id, ok: true, result }, transfer);
      return;
    }
    case "release": {
      const session = sessions.get(request.session);
      sessions.delete(request.session);
      await session?.release();
      post({ id: request.id, ok: true, result: null });
      return;
    }
  }
}

// One request at a time: a session is not run concurrently with itself, and a CPU node's cores are
// already shared by the intra-op threads of the one run.
let chain = Promise.resolve();
port.on("message", (request: ExecutorRequest) => {
  chain = chain.then(() =>
    handle(request).catch((err: unknown) =>
      post({ id: request.id, ok: false, error: wireError(err) }),
    ),
  );
});
