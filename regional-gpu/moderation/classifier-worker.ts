import { parentPort, workerData } from "node:worker_threads";
import { classifierId, loadNsfwModel } from "./nsfw-model.ts";
import { ClassifierWorkerData, type ScoreRequest, type WorkerMessage } from "./worker-protocol.ts";

// Worker thread entry: loads the classifier, then scores one batch at a time (the pool sends the next
// only after this one's answer). A failed load throws: the pool sees the worker's `error` event.

const port = parentPort;
if (!port) throw new Error("classifier-worker.ts must run as a worker thread");
const { model, backend } = ClassifierWorkerData.parse(workerData);

const started = performance.now();
const classifier = await loadNsfwModel(model, backend);
const post = (message: WorkerMessage) => port.postMessage(message);
post({
  type: "ready",
  classifier: classifierId(model),
  side: classifier.side,
  loadMs: performance.now() - started,
});

port.on("message", (request: ScoreRequest) => {
  const began = performance.now();
  classifier.score(request.pixels, request.count).then(
    (scores) => post({ type: "scores", id: request.id, scores, ms: performance.now() - began }),
    (err: unknown) => post({ type: "error", id: request.id, message: String(err) }),
  );
});
