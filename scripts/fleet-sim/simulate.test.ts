import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inputsFrom, parseOptions } from "./options.ts";
import type { RunSummary } from "./report/summary.ts";
import { policiesFor, runOne, workloads } from "./run.ts";

// `npm run simulate -- --quick` end to end (worker threads, JSON, plots), and the claims it must
// keep making on its fixed seed: the queue-driven policy sheds less and waits less than CPU scaling
// in a flash crowd, the fixed fleet never scales, every policy sees the same requests.

const exec = promisify(execFile);
let dir: string;
let runs: RunSummary[];
let report: { verdicts: Record<string, unknown>; runs: RunSummary[]; wall_ms: number };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleet-sim-"));
  const json = join(dir, "fleet-sim.json");
  const node = process.execPath;
  const { stdout } = await exec(
    node,
    [
      new URL("./simulate.ts", import.meta.url).pathname,
      "--quick",
      "--json",
      json,
      "--plot-dir",
      dir,
      "--workers",
      "2",
    ],
    { maxBuffer: 10 * 2 ** 20 },
  );
  expect(stdout).toContain("ours vs cpu:");
  report = JSON.parse(await readFile(json, "utf8"));
  runs = report.runs;
}, 300_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (workload: string, policy: string) =>
  runs.find((r) => r.workload === workload && r.policy === policy)!;

describe("npm run simulate -- --quick", () => {
  it("runs every policy on every workload, on the same requests", () => {
    expect(runs).toHaveLength(16);
    for (const workload of ["diurnal", "flash-crowd", "region-loss", "trace"]) {
      const counts = new Set(runs.filter((r) => r.workload === workload).map((r) => r.requests));
      expect(counts.size).toBe(1);
      expect([...counts][0]).toBeGreaterThan(1_000);
    }
    expect(Object.keys(report.verdicts)).toEqual([
      "diurnal",
      "flash-crowd",
      "region-loss",
      "trace",
    ]);
  });

  it("scales the queue-driven fleet faster than CPU scaling in a flash crowd", () => {
    const ours = run("flash-crowd", "ours").eventWindow!;
    const cpu = run("flash-crowd", "cpu").eventWindow!;
    expect(ours.shed).toBeLessThan(cpu.shed);
    expect(ours.waitMs.p95).toBeLessThan(cpu.waitMs.p95);
    expect(run("flash-crowd", "ours").warmPoolStarts).toBeGreaterThan(0);
  });

  it("keeps the fixed fleet fixed and bills every policy", () => {
    for (const r of runs.filter((r) => r.policy === "fixed")) {
      expect(r.coldStarts + r.warmPoolStarts).toBe(0);
      expect(new Set(r.series.serving).size).toBe(1);
    }
    for (const r of runs) {
      expect(r.gpuHours).toBeGreaterThan(0);
      expect(r.costUsd.total).toBeGreaterThan(r.costUsd.ebs);
    }
  });

  it("redispatches the jobs of a lost region instead of losing them", () => {
    const ours = run("region-loss", "ours");
    expect(ours.redispatched).toBeGreaterThan(0);
    expect(ours.failed).toBe(0);
  });

  it("draws one plot per workload", async () => {
    for (const workload of ["diurnal", "flash-crowd", "region-loss", "trace"]) {
      const meta = await sharp(join(dir, `fleet-sim-${workload}.png`)).metadata();
      expect(meta).toMatchObject({ format: "png", width: 1200 });
    }
  });

  it("is deterministic: the same seed gives the same run", async () => {
    const options = parseOptions(["--quick"]);
    const inputs = inputsFrom(options);
    const workload = workloads(options).find((w) => w.name === "region-loss")!;
    const policy = policiesFor(inputs).find((p) => p.name === "ours")!;
    const strip = ({ wallMs: _w, ...rest }: RunSummary) => rest;
    const again = strip(await runOne(workload, policy, inputs, true));
    expect(again).toEqual(strip(run("region-loss", "ours")));
  }, 60_000);
});
