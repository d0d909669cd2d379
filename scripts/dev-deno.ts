// `npm run dev:deno`: the local stack of `npm start` with the edge on Deno — PGlite, three regional
// nodes, and edge/entry/deno.ts under the project's Deno binary, over the Postgres wire.
import { denoEdge } from "./local-stack/deno-edge.ts";
import { runLocalStack } from "./local-stack/run-local-stack.ts";

await runLocalStack(denoEdge);
