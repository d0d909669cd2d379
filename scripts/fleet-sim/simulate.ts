import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { cpuAtBusy, CPU_BASELINE_BUSY } from "./policies.ts";
import { inputsFrom, parseOptions, UsageError, type CliOptions } from "./options.ts";
import { writePlot } from "./report/plot.ts";
import type { RunSummary } from "./report/summary.ts";
import { table, verdictsOf } from "./report/table.ts";
import { ServiceTimes } from "./sim/service-time.ts";
import { NODE, workloads } from "./run.ts";
import { SHAPES } from "./workload/arrivals.ts";

// npm run simulate: every policy on every workload, one deterministic simulation per pair, spread
// over worker threads; the comparison on stdout, in JSON, and as one PNG per workload.

interface Task {
  workload: string;
  policy: string;
}

async function runPool(options: CliOptions, tasks: Task[]): Promise<RunSummary[]> {
  const results = new Map<string, RunSummary>();
  const queue = [...tasks];
  const size = Math.min(options.workers, tasks.length);
  await Promise.all(
    Array.from({ length: size }, async () => {
      const worker = new Worker(new URL("./sim-worker.ts", import.meta.url), {
        workerData: options,
      });
      try {
        for (let task = queue.shift(); task; task = queue.shift()) {
          const answer = await new Promise<{ ok: boolean; summary?: RunSummary; error?: string }>(
            (done, fail) => {
              worker.once("message", done);
              worker.once("error", fail);
              worker.postMessage(task);
            },
          );
          if (!answer.ok) throw new Error(`${task.workload}/${task.policy}: ${answer.error}`);
          results.set(`${task.workload}/${task.policy}`, answer.summary!);
          const s = answer.summary!;
          process.stderr.write(
            `  ${task.workload}/${task.policy}: ${s.requests} requests in ${(s.wallMs / 1000).toFixed(1)} s\n`,
          );
        }
      } finally {
        worker.postMessage(null);
        await worker.terminate();
      }
    }),
  );
  return tasks.map((t) => results.get(`${t.workload}/${t.policy}`)!);
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(err instanceof UsageError && err.message.startsWith("npm run") ? 0 : 2);
  }
  const inputs = inputsFrom(options);
  const started = performance.now();
  const load = loadavg();
  const specs = workloads(options).filter((w) => options.workloads.includes(w.name));
  const tasks = specs.flatMap((w) =>
    options.policies.map((policy) => ({ workload: w.name, policy })),
  );
  process.stderr.write(
    `fleet simulator: ${tasks.length} runs on ${Math.min(options.workers, tasks.length)} worker threads\n`,
  );
  const summaries = await runPool(options, tasks);
  const wallMs = performance.now() - started;

  const service = new ServiceTimes(inputs.profile, inputs.types, SHAPES, NODE.batching.maxBatch);
  const baseType = inputs.tf.instance_types[0]!;
  const cpuNote = `CPU of a ${baseType} at ${CPU_BASELINE_BUSY * 100}% GPU busy: ${(cpuAtBusy({ ...inputs, service }, baseType, CPU_BASELINE_BUSY) * 100).toFixed(1)}% (the CPU policy's target); saturated: ${(cpuAtBusy({ ...inputs, service }, baseType, 1) * 100).toFixed(1)}%`;
  process.stdout.write(`${table(summaries)}\n\n${cpuNote}\n`);
  process.stdout.write(
    `${tasks.length} runs in ${(wallMs / 1000).toFixed(1)} s, load average ${load.map((l) => l.toFixed(2)).join(" ")} at the start\n`,
  );

  if (options.json) {
    mkdirSync(dirname(options.json), { recursive: true });
    const byWorkload = Object.fromEntries(
      specs.map((w) => [w.name, verdictsOf(summaries.filter((s) => s.workload === w.name))]),
    );
    writeFileSync(
      options.json,
      `${JSON.stringify(
        {
          command: `npm run simulate -- ${process.argv.slice(2).join(" ")}`.trim(),
          started_at: new Date(Date.now() - wallMs).toISOString(),
          machine: {
            cpus: cpus().length,
            model: cpus()[0]?.model,
            loadavg_at_start: load,
            loadavg_at_end: loadavg(),
          },
          wall_ms: Math.round(wallMs),
          inputs: {
            terraform: inputs.tf,
            service_profile: inputs.profile,
            requests_per_day: options.requestsPerDay,
            seed: options.seed,
          },
          cpu_baseline: cpuNote,
          verdicts: byWorkload,
          runs: summaries,
        },
        null,
        1,
      )}\n`,
    );
    process.stdout.write(`JSON: ${options.json}\n`);
  }
  if (options.plotDir) {
    mkdirSync(options.plotDir, { recursive: true });
    for (const w of specs) {
      const runs = summaries.filter((s) => s.workload === w.name);
      const path = join(options.plotDir, `fleet-sim-${w.name}.png`);
      await writePlot(path, `Fleet simulator: ${w.label}`, runs);
      process.stdout.write(`plot: ${path}\n`);
    }
  }
}

await main();
