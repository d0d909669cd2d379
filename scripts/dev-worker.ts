// `npm run dev:worker`: the local stack of `npm start` with the Worker as the edge — PGlite, three
// regional nodes, and edge/entry/worker.ts under `wrangler dev` (workerd, Miniflare R2 and Durable
// Objects), reaching the same PGlite through the local Neon-style WebSocket proxy.
import { runLocalStack } from "./local-stack/run-local-stack.ts";
import { wranglerEdge } from "./local-stack/wrangler-edge.ts";

await runLocalStack(wranglerEdge);
