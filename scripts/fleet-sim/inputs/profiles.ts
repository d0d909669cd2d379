import { readFileSync } from "node:fs";
import { z } from "zod";

// The simulator's data: GPU instance types with prices, and the service profile of the model (batch
// times on the reference GPU, CPU use, launch times). Files in ../data/, validated here; a
// bench:region result (npm run bench:region, or scripts/gpu/bench-cuda.sh on a GPU host) can replace
// the batch times with measured ones.

export const InstanceTypes = z.object({
  ebsUsdPerInstanceHour: z.number().min(0),
  types: z.record(
    z.string(),
    z.object({
      gpu: z.string(),
      vcpus: z.number().int().min(1),
      onDemandUsdPerHour: z.number().positive(),
      spotUsdPerHour: z.number().positive(),
      speed: z.number().positive(),
      spotInterruptionsPerMonth: z.number().min(0),
    }),
  ),
});
export type InstanceTypes = z.infer<typeof InstanceTypes>;

export const ServiceProfile = z.object({
  model: z.string(),
  reference: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
  /** Batch size -> ms of one session.run of that many images at the reference size. */
  batchMs: z
    .record(z.string().regex(/^[1-9]\d*$/), z.number().positive())
    .refine((t) => "1" in t, "needs the time of a batch of 1"),
  outputStageMs: z.number().min(0),
  cpu: z.object({
    idleShare: z.number().min(0).max(1),
    executorCores: z.number().min(0),
    cpuSecondsPerImage: z.number().min(0),
  }),
  launch: z.object({
    coldMs: z.number().positive(),
    warmStoppedMs: z.number().positive(),
    warmHibernatedMs: z.number().positive(),
    stopToPoolMs: z.number().positive(),
  }),
});
export type ServiceProfile = z.infer<typeof ServiceProfile>;

const DATA = new URL("../data/", import.meta.url);

function loadJson<T>(file: URL | string, schema: z.ZodType<T>): T {
  const text = readFileSync(file, "utf8");
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${String(file)}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export const loadInstanceTypes = (file: URL | string = new URL("instance-types.json", DATA)) =>
  loadJson(file, InstanceTypes);
export const loadServiceProfile = (file: URL | string = new URL("service-profile.json", DATA)) =>
  loadJson(file, ServiceProfile);

/** The parts of a bench:region result (regional-gpu/bench/report.ts) that give batch times. */
const BenchResult = z.object({
  shape: z.string().regex(/^\d+x\d+$/),
  raw: z.object({
    batch1: z.object({ batch: z.number().int(), run_ms: z.object({ p50: z.number().positive() }) }),
    batches: z.array(
      z.object({ batch: z.number().int(), run_ms: z.object({ p50: z.number().positive() }) }),
    ),
  }),
});

/** The profile with batch times measured by bench:region (median session run per batch size). */
export function calibrateFromBench(profile: ServiceProfile, benchFile: string): ServiceProfile {
  const bench = loadJson(benchFile, BenchResult);
  const [width, height] = bench.shape.split("x").map(Number) as [number, number];
  const batchMs: Record<string, number> = {};
  for (const run of [bench.raw.batch1, ...bench.raw.batches])
    batchMs[String(run.batch)] = run.run_ms.p50;
  return { ...profile, reference: { width, height }, batchMs };
}
