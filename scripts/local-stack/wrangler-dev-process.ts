import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { StackConfig } from "./stack-config.ts";
import { WORKER_VARIABLE_NAMES } from "./worker-dev-vars.ts";

// `wrangler dev` as a child of the local stack: local mode (Miniflare's R2, Cache API and Durable
// Objects inside workerd), state kept in the data folder. It runs in a process group of its own
// (wrangler's launcher, its CLI and the workerd processes Miniflare starts), so stopping it can
// make sure the whole group is gone: no workerd outlives the stack.

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

const WRANGLER_LOG_LEVEL: Record<StackConfig["logLevel"], string> = {
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  silent: "none",
};

export function wranglerDevArgs(opts: WranglerDevOptions): string[] {
  return [
    "dev",
    "--config",
    `${ROOT}wrangler.toml`,
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
  const env: NodeJS.ProcessEnv = {
    // No usage metrics, and the placeholder `request.cf` (a colo in Texas) rather than a fetch
    // from workers.cloudflare.com at every start; either can be turned back on from outside.
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    ...base,
    WRANGLER_LOG_PATH: logDir,
  };
  for (const name of WORKER_VARIABLE_NAMES) delete env[name];
  return env;
}

export class WranglerDevProcess {
  /** Settles with a reason when wrangler exits by itself (not through stop()). */
  readonly exited: Promise<string>;
  private readonly child: ChildProcess;
  private stopping: Promise<void> | undefined;

  constructor(opts: WranglerDevOptions & { logDir: string; output: (line: string) => void }) {
    this.child = spawn(process.execPath, [WRANGLER_BIN, ...wranglerDevArgs(opts)], {
      cwd: ROOT,
      env: wranglerDevEnv(process.env, opts.logDir),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on("line", opts.output);
    }
    const exit = new Promise<string>((resolve) => {
      this.child.once("error", (error) => resolve(`wrangler dev did not start: ${error.message}`));
      this.child.once("exit", (code, signal) =>
        resolve(`wrangler dev exited (${signal ?? `code ${code}`})`),
      );
    });
    this.exited = exit.then((reason) => (this.stopping ? new Promise<never>(() => {}) : reason));
    // Should this process end without stop() (an uncaught error), take the group down with it.
    process.once("exit", this.killGroup);
  }

  /** Resolves once `url`/healthz answers 200; rejects if wrangler exits first or `signal` aborts. */
  async ready(url: string, signal: AbortSignal, timeoutMs = 180_000): Promise<void> {
    let exitedWith: string | undefined;
    void this.exited.then((reason) => (exitedWith = reason));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exitedWith) throw new Error(`${exitedWith} before it served ${url}`);
      signal.throwIfAborted();
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`wrangler dev did not serve ${url} within ${timeoutMs / 1000} s`);
  }

  /**
   * SIGTERM to the group (wrangler disposes Miniflare, which kills workerd), then waits until no
   * process of the group is left; SIGKILL for whatever remains after `graceMs`.
   */
  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      this.signalGroup("SIGTERM");
      const deadline = Date.now() + graceMs;
      while (this.groupAlive() && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (this.groupAlive()) this.signalGroup("SIGKILL");
      while (this.groupAlive()) await new Promise((resolve) => setTimeout(resolve, 50));
      process.off("exit", this.killGroup);
    })();
    return this.stopping;
  }

  private readonly killGroup = () => this.signalGroup("SIGKILL");

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, signal);
    } catch {
      // The group is gone.
    }
  }

  private groupAlive(): boolean {
    if (this.child.pid === undefined) return false;
    try {
      process.kill(-this.child.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
