import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// A regional node as a child process (`node regional-gpu/main.ts`), configured by environment
// variables the way a host runs it, with its JSON log lines collected for the test to wait on.

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

export type LogLine = Record<string, unknown>;

export interface NodeProcess {
  child: ChildProcess;
  lines: LogLine[];
  /** Resolves with the first log line whose msg is `msg` (rejects if the process exits first). */
  line(msg: string): Promise<LogLine>;
  count(msg: string): number;
  exited: Promise<number | null>;
  stderr(): string;
}

export function launchNode(env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on("line", (text) => {
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      lines.push({ msg: "(not JSON)", text });
    }
    waiters.splice(0).forEach((w) => w());
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  const line = (msg: string) =>
    new Promise<LogLine>((done, fail) => {
      const check = () => {
        const found = lines.find((l) => l.msg === msg);
        if (found) return done(found);
        waiters.push(check);
      };
      void exited.then(() => fail(new Error(`exited before "${msg}": ${stderr}`)));
      check();
    });
  return {
    child,
    lines,
    line,
    count: (msg) => lines.filter((l) => l.msg === msg).length,
    exited,
    stderr: () => stderr,
  };
}
