import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

// An edge that runs as a child of the local stack (wrangler dev, deno), in a process group of its
// own: the runtime may start processes of its own (wrangler: its CLI and workerd), and stopping the
// edge makes sure the whole group is gone, so nothing outlives the stack.

export interface EdgeProcessOptions {
  /** What it is, in messages ("wrangler dev", "the Deno edge"). */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Each line it writes (stdout and stderr). */
  output: (line: string) => void;
}

export class EdgeProcess {
  /** Settles with a reason when the process exits by itself (not through stop()). */
  readonly exited: Promise<string>;
  private readonly child: ChildProcess;
  private readonly name: string;
  private stopping: Promise<void> | undefined;

  constructor(opts: EdgeProcessOptions) {
    this.name = opts.name;
    this.child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on("line", opts.output);
    }
    const exit = new Promise<string>((resolve) => {
      this.child.once("error", (error) => resolve(`${this.name} did not start: ${error.message}`));
      this.child.once("exit", (code, signal) =>
        resolve(`${this.name} exited (${signal ?? `code ${code}`})`),
      );
    });
    this.exited = exit.then((reason) => (this.stopping ? new Promise<never>(() => {}) : reason));
    // Should the stack end without stop() (an uncaught error), take the group down with it.
    process.once("exit", this.killGroup);
  }

  /** Resolves once `url`/healthz answers 200; rejects if it exits first or `signal` aborts. */
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
    throw new Error(`${this.name} did not serve ${url} within ${timeoutMs / 1000} s`);
  }

  /**
   * SIGTERM to the group (each runtime stops gracefully on it; wrangler disposes Miniflare, which
   * kills workerd), then waits until no process of the group is left; SIGKILL for whatever remains
   * after `graceMs`.
   */
  stop(graceMs = 15_000): Promise<void> {
    this.stopping ??= (async () => {
      this.signalGroup("SIGTERM");
      const deadline = Date.now() + graceMs;
      while (this.groupAlive() && Date.now() < deadline) await sleep(50);
      if (this.groupAlive()) this.signalGroup("SIGKILL");
      while (this.groupAlive()) await sleep(50);
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
