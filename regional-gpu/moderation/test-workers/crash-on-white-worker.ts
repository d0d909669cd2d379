import { parentPort } from "node:worker_threads";
import type { ScoreRequest, WorkerMessage } from "../worker-protocol.ts";

// A worker for the pool's failure tests, speaking the real protocol: it exits when a batch holds an
// all-white image (first byte 255), answers "neutral" otherwise, and fails to load when told to.

const port = parentPort!;
if (process.env.CLASSIFIER_TEST_FAIL_LOAD === "1") throw new Error("model failed to load");
const post = (message: WorkerMessage) => port.postMessage(message);
post({ type: "ready", classifier: "test/crash-on-white", side: 224, loadMs: 0 });
port.on("message", (request: ScoreRequest) => {
  const side = 224 * 224 * 3;
  for (let i = 0; i < request.count; i++) {
    if (request.pixels[i * side] === 255) process.exit(3);
  }
  const neutral = { drawing: 0, hentai: 0, neutral: 1, porn: 0, sexy: 0 };
  post({ type: "scores", id: request.id, scores: Array(request.count).fill(neutral), ms: 0 });
});
