import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NvidiaSmiMemoryProbe, parseGpuMemory, ProcessMemoryProbe } from "./memory-probe.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "memory-probe-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ProcessMemoryProbe", () => {
  it("sees an allocation in the process's resident memory", async () => {
    const probe = new ProcessMemoryProbe();
    const before = (await probe.read()).cpu!;
    const block = Buffer.alloc(64 * 2 ** 20, 1);
    const after = (await probe.read()).cpu!;
    expect(after - before).toBeGreaterThan(48 * 2 ** 20);
    expect(block.byteLength).toBe(64 * 2 ** 20);
    expect(await probe.capacity("cpu")).toBeGreaterThan(after);
    expect(await probe.capacity("cuda")).toBeNull();
  });
});

describe("NvidiaSmiMemoryProbe", () => {
  it("parses nvidia-smi's csv (MiB) into bytes", () => {
    expect(parseGpuMemory("1024, 81559\n")).toEqual({
      used: 1024 * 2 ** 20,
      total: 81559 * 2 ** 20,
    });
    expect(parseGpuMemory("[N/A], [N/A]\n")).toBeNull();
    expect(parseGpuMemory("")).toBeNull();
  });

  it("reads the GPU through the nvidia-smi binary, and only the CPU without one", async () => {
    const fake = join(dir, "nvidia-smi");
    // A real executable with nvidia-smi's output format, for hosts without a GPU.
    await writeFile(
      fake,
      '#!/bin/sh\ncase "$*" in *--query-gpu=memory.used,memory.total*) echo "2048, 81559";; *) exit 9;; esac\n',
    );
    await chmod(fake, 0o755);
    const probe = new NvidiaSmiMemoryProbe({ binary: fake });
    const reading = await probe.read();
    expect(reading.cuda).toBe(2048 * 2 ** 20);
    expect(reading.cpu).toBeGreaterThan(0);
    expect(await probe.capacity("cuda")).toBe(81559 * 2 ** 20);

    const missing = new NvidiaSmiMemoryProbe({ binary: join(dir, "absent") });
    expect(Object.keys(await missing.read())).toEqual(["cpu"]);
    expect(await missing.capacity("cuda")).toBeNull();
  });
});
