import { readdirSync, readFileSync } from "node:fs";

// Linux /proc: the processes a stack started, to prove none outlives it.

export interface ProcessInfo {
  pid: number;
  command: string;
}

function readProcesses(): Map<number, { ppid: number; command: string }> {
  const out = new Map<number, { ppid: number; command: string }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      out.set(Number(entry), { ppid, command });
    } catch {
      // It exited while being read.
    }
  }
  return out;
}

/** Every descendant of `root` now (children, their children, ...). */
export function descendantsOf(root: number): ProcessInfo[] {
  const all = readProcesses();
  const found: ProcessInfo[] = [];
  const walk = (parent: number) => {
    for (const [pid, p] of all) {
      if (p.ppid !== parent) continue;
      found.push({ pid, command: p.command });
      walk(pid);
    }
  };
  walk(root);
  return found;
}

/** Those of `processes` still running (zombies, which hold nothing but a table entry, excepted). */
export function stillRunning(processes: ProcessInfo[]): ProcessInfo[] {
  return processes.filter(({ pid }) => {
    try {
      return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  });
}
