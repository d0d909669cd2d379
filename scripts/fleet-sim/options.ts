import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { calibrateFromBench, loadInstanceTypes, loadServiceProfile } from "./inputs/profiles.ts";
import { loadScalingPolicy, PRODUCTION_FIXTURE } from "./inputs/terraform-policy.ts";
import type { ComparisonInputs } from "./run.ts";

// `npm run simulate` options, shared by the command and its worker threads (which rebuild the same
// inputs from them: every run is reproducible from its command line).

export interface CliOptions {
  quick: boolean;
  workloads: string[];
  policies: string[];
  requestsPerDay: number;
  seed: number;
  terraform: string;
  service: string | null;
  instanceTypes: string | null;
  tracePath: string;
  traceSpeedup?: number;
  json: string | null;
  plotDir: string | null;
  workers: number;
  uncapped: boolean;
}

export const USAGE = `npm run simulate -- [options]
  --quick                   90 simulated minutes per workload at 400k/day (CI); default: a full day at 1M/day
  --workloads a,b           diurnal, flash-crowd, region-loss, trace (default: all); peak-hour (capacity planning)
  --policies a,b            cpu, backlog, ours, fixed (default: all)
  --requests-per-day N      default 1000000 (quick: 400000)
  --seed N                  default 42
  --terraform FILE          scaling_policy.json of an environment (default: production's fixture)
  --service FILE            a bench:region result to calibrate batch times from
  --instance-types FILE     prices and speeds (default: scripts/fleet-sim/data/instance-types.json)
  --trace FILE              Azure Functions 2021 invocation CSV (.csv or .csv.gz; default: the sample)
  --trace-speedup N         replay the trace N times faster
  --json FILE               default bench-results/fleet-sim.json (quick: none)
  --plot-dir DIR            PNG per workload (default docs/images; quick: none)
  --workers N               worker threads (default: min(4, cores))
  --uncapped                lift the groups' max sizes 1000x: what the load needs (with peak-hour)`;

const DEFAULT_WORKLOADS = ["diurnal", "flash-crowd", "region-loss", "trace"];

const DEFAULT_TRACE = new URL("./data/azure-functions-2021-sample.csv", import.meta.url).pathname;

export function parseOptions(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      workloads: { type: "string" },
      policies: { type: "string" },
      "requests-per-day": { type: "string" },
      seed: { type: "string" },
      terraform: { type: "string" },
      service: { type: "string" },
      "instance-types": { type: "string" },
      trace: { type: "string" },
      "trace-speedup": { type: "string" },
      json: { type: "string" },
      "plot-dir": { type: "string" },
      workers: { type: "string" },
      uncapped: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) throw new UsageError(USAGE);
  const quick = values.quick!;
  const number = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min)
      throw new UsageError(`--${name} must be a number >= ${min}, got "${raw}"`);
    return n;
  };
  const list = (name: string, raw: string | undefined, all: string[]) => {
    const picked =
      raw === undefined
        ? all
        : raw
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean);
    const unknown = picked.filter((p) => !all.includes(p));
    if (unknown.length > 0)
      throw new UsageError(`--${name}: unknown ${unknown.join(", ")} (known: ${all.join(", ")})`);
    return picked;
  };
  const traceSpeedup =
    values["trace-speedup"] === undefined
      ? undefined
      : number("trace-speedup", values["trace-speedup"], 1, 1e-6);
  return {
    quick,
    workloads: list("workloads", values.workloads, [...DEFAULT_WORKLOADS, "peak-hour"]).filter(
      (w) => values.workloads !== undefined || DEFAULT_WORKLOADS.includes(w),
    ),
    policies: list("policies", values.policies, ["cpu", "backlog", "ours", "fixed"]),
    requestsPerDay: number(
      "requests-per-day",
      values["requests-per-day"],
      quick ? 400_000 : 1_000_000,
      1,
    ),
    seed: number("seed", values.seed, 42, 0) >>> 0,
    terraform: values.terraform ?? PRODUCTION_FIXTURE.pathname,
    service: values.service ?? null,
    instanceTypes: values["instance-types"] ?? null,
    tracePath: values.trace ?? DEFAULT_TRACE,
    ...(traceSpeedup !== undefined && { traceSpeedup }),
    json: values.json ?? (quick ? null : "bench-results/fleet-sim.json"),
    plotDir: values["plot-dir"] ?? (quick ? null : "docs/images"),
    workers: number("workers", values.workers, Math.min(4, availableParallelism()), 1),
    uncapped: values.uncapped!,
  };
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function inputsFrom(options: CliOptions): ComparisonInputs {
  const profile = loadServiceProfile();
  return {
    tf: loadScalingPolicy(options.terraform),
    profile: options.service ? calibrateFromBench(profile, options.service) : profile,
    types: options.instanceTypes ? loadInstanceTypes(options.instanceTypes) : loadInstanceTypes(),
    requestsPerDay: options.requestsPerDay,
    seed: options.seed,
    uncapped: options.uncapped,
  };
}
