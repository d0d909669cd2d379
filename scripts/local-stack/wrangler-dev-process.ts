import { fileURLToPath } from "node:url";
import { EdgeProcess } from "./edge-process.ts";
import type { StackConfig } from "./stack-config.ts";
import { withoutEdgeVariables } from "./edge-vars.ts";

// `wrangler dev` as a child of the local stack: local mode (Miniflare's R2, Cache API and Durable
// Objects inside workerd), state kept in the data folder. Its process group holds wrangler's
// launcher, its CLI and the workerd processes Miniflare starts (edge-process.ts stops them all).

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Started with this process's Node (≥ 22, as wrangler needs), not whichever `node` is on PATH. */
const WRANGLER_BIN = `${ROOT}node_modules/wrangler/bin/wrangler.js`;

export interface WranglerDevOptions {
  host: string;
  port: number;
  /** DevTools port of the Worker (a free one: two stacks, or a debugger, must not collide). */
  inspectorPort: number;
  /** dotenv file of the Worker's variables and secrets (worker-dev-vars.ts). */
  envFile: string;
  /** Extra plain-text variables (`--var NAME:value`). */
  vars: Record<string, string>;
  /** Miniflare's R2 and Durable Object storage. */
  persistTo: string;
  logLevel: StackConfig["logLevel"];
}

/**
 * wrangler prints the Worker's console lines at its "log" level, which is more verbose than its
 * "info": below debug, wrangler runs at "log" and the stack filters lines by LOG_LEVEL itself
 * (logLineFilter), so the Worker's warnings show while request lines stay hidden.
 */
const WRANGLER_LOG_LEVEL: Record<StackConfig["logLevel"], string> = {
  debug: "debug",
  info: "log",
  warn: "log",
  error: "log",
  silent: "none",
};

export function wranglerDevArgs(opts: WranglerDevOptions): string[] {
  return [
    "dev",
    "--config",
    `${ROOT}wrangler.toml`,
    // The only development Worker in wrangler.toml (the top level deploys nothing).
    "--env",
    "dev",
    "--local",
    "--ip",
    opts.host,
    "--port",
    String(opts.port),
    "--inspector-port",
    String(opts.inspectorPort),
    "--env-file",
    opts.envFile,
    ...Object.entries(opts.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    "--persist-to",
    opts.persistTo,
    "--log-level",
    WRANGLER_LOG_LEVEL[opts.logLevel],
    "--show-interactive-dev-session=false",
  ];
}

/** wrangler's environment: ours without the Worker's variables, and quiet by default. */
export function wranglerDevEnv(base: NodeJS.ProcessEnv, logDir: string): NodeJS.ProcessEnv {
  return {
    // No usage metrics, and the placeholder `request.cf` (a colo in Texas) rather than a fetch
    // from workers.cloudflare.com at every start; either can be turned back on from outside.
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    ...withoutEdgeVariables(base),
    WRANGLER_LOG_PATH: logDir,
  };
}

/** `wrangler dev` as the stack's edge process. */
export function startWranglerDev(
  opts: WranglerDevOptions & { logDir: string; output: (line: string) => void },
): EdgeProcess {
  return new EdgeProcess({
    name: "wrangler dev",
    command: process.execPath,
    args: [WRANGLER_BIN, ...wranglerDevArgs(opts)],
    cwd: ROOT,
    env: wranglerDevEnv(process.env, opts.logDir),
    output: opts.output,
  });
}
