import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Boots the real `npm start` stack (node scripts/start.ts) in a temporary data folder on free ports.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface RunningStack {
  edgeUrl: string;
  dataDir: string;
  devKey: string;
  child: ChildProcess;
  output: () => string;
  /** Ctrl-C, as a user would; resolves with the exit code. */
  stop(): Promise<number | null>;
  admin(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `dataDir`: an earlier stack's folder, to start it again (its database, keys and outputs). */
export async function startLocalStack(
  env: Record<string, string> = {},
  dataDir?: string,
): Promise<RunningStack> {
  dataDir ??= await mkdtemp(join(tmpdir(), "genart-stack-"));
  const baseEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    MODEL_DIR: join(ROOT, ".data/models"),
    EDGE_PORT: "0",
    REGION_BASE_PORT: "0",
    ORT_EP: "cpu",
    ...env,
  };
  const child = spawn(process.execPath, ["scripts/start.ts"], { cwd: ROOT, env: baseEnv });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const { edgeUrl, devKey } = await new Promise<{ edgeUrl: string; devKey: string }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`stack did not come up:\n${out}`)), 120_000);
    const check = () => {
      const url = /local stack is up: (http:\/\/\S+)/.exec(out)?.[1];
      const key = /\b(gk_test_[0-9A-Za-z]{32})\b/.exec(out)?.[1];
      if (url && key) {
        clearTimeout(timer);
        ok({ edgeUrl: url, devKey: key });
      }
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`stack exited (${code}) before it was up:\n${out}`));
    });
  });
  const stop = () =>
    new Promise<number | null>((done) => {
      if (child.exitCode !== null) return done(child.exitCode);
      child.once("exit", (code) => done(code));
      child.kill("SIGINT");
    });
  const admin = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const p = spawn(process.execPath, ["scripts/admin.ts", ...args], { cwd: ROOT, env: baseEnv });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      p.once("exit", (code) => done({ code, stdout, stderr }));
    });
  return { edgeUrl, dataDir, devKey, child, output: () => out, stop, admin };
}

export const removeDataDir = (dir: string) => rm(dir, { recursive: true, force: true });
