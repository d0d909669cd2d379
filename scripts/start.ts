// `npm start`: the embedded default on one machine — PGlite, three regional nodes, the edge on Node.
import { nodeEdge } from "./local-stack/node-edge.ts";
import { runLocalStack } from "./local-stack/run-local-stack.ts";

await runLocalStack(nodeEdge);
