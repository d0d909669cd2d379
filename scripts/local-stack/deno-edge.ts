import { fileURLToPath } from "node:url";
import { EdgeProcess } from "./edge-process.ts";
import { edgeVars, withoutEdgeVariables } from "./edge-vars.ts";
import type { EdgeLauncher } from "./run-local-stack.ts";
import { logLineFilter } from "./welcome.ts";
import { serveOverWire } from "./wire-database.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * `npm run dev:deno`'s edge: edge/entry/deno.ts under the Deno binary of the `deno` dev dependency,
 * with the permissions of `npm run start:deno`, reaching the stack's PGlite over the Postgres wire.
 */
export const denoEdge: EdgeLauncher = async (ctx) => {
  const { config } = ctx;
  const wire = await serveOverWire(ctx.database, { maxConnections: 32 });
  let deno: EdgeProcess | undefined;
  const close = async () => {
    await deno?.stop();
    await wire.close();
  };
  try {
    const keep = logLineFilter(config.logLevel);
    deno = new EdgeProcess({
      name: "the Deno edge",
      command: `${ROOT}node_modules/.bin/deno`,
      args: [
        "run",
        // Everything comes from node_modules: fail rather than fetch anything.
        "--cached-only",
        "--allow-net",
        "--allow-env",
        `--allow-read=${ROOT},${config.dataDir}`,
        `--allow-write=${config.dataDir}`,
        "edge/entry/deno.ts",
      ],
      cwd: ROOT,
      // Secrets in the environment, not in arguments a process list shows.
      env: {
        ...withoutEdgeVariables(process.env),
        DENO_NO_UPDATE_CHECK: "1",
        ...edgeVars({
          publicUrl: ctx.url,
          regions: ctx.regions.map((r) => r.config),
          secrets: ctx.secrets,
          databaseUrl: wire.gateway.postgresUrl,
        }),
        EDGE_HOST: config.edgeHost,
        EDGE_PORT: String(ctx.port),
        EDGE_ASSETS_DIR: `${config.dataDir}/edge-cache`,
      },
      output: (line) => {
        if (keep(line)) console.log(line);
      },
    });
    await deno.ready(ctx.url, ctx.stopping);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    runtime: "Deno (Cache API, in-process limiter)",
    url: ctx.url,
    adminDb: wire.admin,
    exited: deno.exited,
    close,
  };
};
