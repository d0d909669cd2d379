import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { totalmem } from "node:os";

// How the hot tier measures what a loaded model costs: memory in use on each device before and after
// session creation plus a warm-up run. Devices are keyed by execution provider ("cpu", "cuda"). The
// process probe reads RSS; on CUDA hosts the nvidia-smi probe adds the GPU's used memory (the CUDA
// EP's arena included), so the same pool budgets GPU memory without change.

export type MemoryReading = Record<string, number>;

export interface MemoryProbe {
  /** Bytes in use now, per device: always "cpu"; "cuda" where it can be measured. */
  read(): Promise<MemoryReading>;
  /** Total bytes of a device, or null when unknown. */
  capacity(device: string): Promise<number | null>;
}

const MIB = 2 ** 20;

/** The cgroup v2 memory limit of this container, or null when there is none. */
async function cgroupLimit(): Promise<number | null> {
  try {
    const text = (await readFile("/sys/fs/cgroup/memory.max", "utf8")).trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** Resident set size of this process: what CPU sessions (weights, arena) occupy. */
export class ProcessMemoryProbe implements MemoryProbe {
  async read(): Promise<MemoryReading> {
    return { cpu: process.memoryUsage.rss() };
  }

  async capacity(device: string): Promise<number | null> {
    if (device !== "cpu") return null;
    const limit = await cgroupLimit();
    return limit === null ? totalmem() : Math.min(limit, totalmem());
  }
}

/** The first `memory.used, memory.total` line (MiB) -> bytes. */
export function parseGpuMemory(text: string): { used: number; total: number } | null {
  const [used, total] = (text.split("\n")[0] ?? "").split(",").map((s) => s.trim());
  if (!/^\d+$/.test(used ?? "") || !/^\d+$/.test(total ?? "")) return null;
  return { used: Number(used) * MIB, total: Number(total) * MIB };
}

const run = (file: string, args: readonly string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(file, args, { timeout: 5_000, encoding: "utf8" }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );

/**
 * GPU memory from nvidia-smi: the device's used memory, since a GPU host runs one node per GPU (and a
 * container's PID namespace can hide which process holds what). Unreadable = not reported.
 */
export class NvidiaSmiMemoryProbe implements MemoryProbe {
  private readonly cpu = new ProcessMemoryProbe();
  private readonly device: string;
  private readonly binary: string;

  /** `device`: the GPU index nvidia-smi knows; `binary`: where nvidia-smi is (default: on PATH). */
  constructor(opts: { device?: string; binary?: string } = {}) {
    this.device = opts.device ?? "0";
    this.binary = opts.binary ?? "nvidia-smi";
  }

  async read(): Promise<MemoryReading> {
    const reading = await this.cpu.read();
    const gpu = await this.query();
    if (gpu !== null) reading.cuda = gpu.used;
    return reading;
  }

  async capacity(device: string): Promise<number | null> {
    if (device !== "cuda") return this.cpu.capacity(device);
    return (await this.query())?.total ?? null;
  }

  private async query(): Promise<{ used: number; total: number } | null> {
    try {
      return parseGpuMemory(
        await run(this.binary, [
          `--id=${this.device}`,
          "--query-gpu=memory.used,memory.total",
          "--format=csv,noheader,nounits",
        ]),
      );
    } catch {
      return null;
    }
  }
}
