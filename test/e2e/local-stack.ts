import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Boots the real local stack in a temporary data folder on free ports, with the edge of choice:
// `npm start` (node scripts/start.ts: the Node edge), `npm run dev:worker` (the Worker under
// wrangler dev) or `npm run dev:deno` (the Deno edge).

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type LocalEdgeKind = "node" | "worker" | "deno";

const ENTRY: Record<LocalEdgeKind, string> = {
  node: "scripts/start.ts",
  worker: "scripts/dev-worker.ts",
  deno: "scripts/dev-deno.ts",
};

export interface RunningStack {
  edgeUrl: string;
  dataDir: string;
  devKey: string;
  child: ChildProcess;
  output: () => string;
  /** The `curl` the welcome prints, as one shell command line. */
  welcomeCurl: () => string;
  /** Ctrl-C, as a user would; resolves with the exit code. */
  stop(): Promise<number | null>;
  admin(args: string[]): Promise<Exited>;
  /** A script of the repository run with this stack's environment (`node <script> ...args`). */
  run(script: string, args: string[], env?: Record<string, string>): Promise<Exited>;
}

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The stack's process, started and not waited for. `dataDir`: an earlier stack's folder, to start
 * it again (its database, keys and outputs).
 */
export async function launchLocalStack(
  edge: LocalEdgeKind,
  env: Record<string, string> = {},
  dataDir?: string,
) {
  dataDir ??= await mkdtemp(join(tmpdir(), `genart-stack-${edge}-`));
  const baseEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    MODEL_DIR: join(ROOT, ".data/models"),
    EDGE_PORT: "0",
    REGION_BASE_PORT: "0",
    ORT_EP: "cpu",
    ...env,
  };
  // Its own process group, as a terminal gives it: stop() sends SIGINT to the whole group, as
  // Ctrl-C does, so every process the stack started receives it too.
  const child = spawn(process.execPath, [ENTRY[edge]], { cwd: ROOT, env: baseEnv, detached: true });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const stop = () =>
    new Promise<number | null>((done) => {
      if (child.exitCode !== null) return done(child.exitCode);
      child.once("exit", (code) => done(code));
      process.kill(-child.pid!, "SIGINT");
    });
  return { dataDir, baseEnv, child, output: () => out, stop };
}

/** Starts the stack and waits for its welcome; the edge is Node's unless `edge` says otherwise. */
export async function startLocalStack(
  env: Record<string, string> = {},
  dataDir?: string,
  edge: LocalEdgeKind = "node",
): Promise<RunningStack> {
  const launched = await launchLocalStack(edge, env, dataDir);
  const { baseEnv, child, output, stop } = launched;
  const { edgeUrl, devKey } = await new Promise<{ edgeUrl: string; devKey: string }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`stack did not come up:\n${output()}`)), 170_000);
    const check = () => {
      const url = /local stack is up: (http:\/\/\S+)/.exec(output())?.[1];
      const key = /\b(gk_test_[0-9A-Za-z]{32})\b/.exec(output())?.[1];
      if (url && key) {
        clearTimeout(timer);
        ok({ edgeUrl: url, devKey: key });
      }
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`stack exited (${code}) before it was up:\n${output()}`));
    });
  });
  const run = (script: string, args: string[], extra: Record<string, string> = {}) =>
    new Promise<Exited>((done) => {
      const p = spawn(process.execPath, [script, ...args], {
        cwd: ROOT,
        env: { ...baseEnv, ...extra },
      });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      p.once("exit", (code) => done({ code, stdout, stderr }));
    });
  const welcomeCurl = () => {
    const block = /try it:\n((?: {4}.*\n)+)/.exec(output())?.[1];
    if (!block) throw new Error(`no curl in the welcome:\n${output()}`);
    return block.replace(/\\\n\s*/g, " ").trim();
  };
  return {
    edgeUrl,
    dataDir: launched.dataDir,
    devKey,
    child,
    output,
    welcomeCurl,
    stop,
    admin: (args) => run("scripts/admin.ts", args),
    run,
  };
}

export const removeDataDir = (dir: string) => rm(dir, { recursive: true, force: true });
