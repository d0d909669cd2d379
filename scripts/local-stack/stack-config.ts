import { resolve } from "node:path";
import { z } from "zod";
import { RegionConfig } from "../../contracts/region-protocol.ts";

// `npm start`'s configuration, from the environment. Everything has a default: a new user sets nothing.

export const DEFAULT_LOCAL_REGIONS = [
  { name: "us-east", lat: 38.9, lon: -77.0 },
  { name: "eu-west", lat: 53.35, lon: -6.26 },
  { name: "ap-southeast", lat: 1.35, lon: 103.82 },
] as const;

/** What one GPU-hour costs in each simulated region, in micro-USD (they differ, as in the cloud). */
const GPU_PRICE_PER_HOUR_MICROUSD: Record<string, number> = {
  "us-east": 2_500_000,
  "eu-west": 2_800_000,
  "ap-southeast": 3_100_000,
};

const port = z.coerce.number().int().min(0).max(65_535);

const Env = z.object({
  DATA_DIR: z.string().min(1).default(".data"),
  /** Default: <DATA_DIR>/models. Several stacks (tests) may share one built model folder. */
  MODEL_DIR: z.string().min(1).optional(),
  EDGE_HOST: z.string().min(1).default("127.0.0.1"),
  EDGE_PORT: port.default(8787),
  /** Regions listen on consecutive ports from here; 0 picks free ports. */
  REGION_BASE_PORT: port.default(8801),
  /** e.g. "us-east=20,eu-west=90": extra round-trip time each region adds to its answers. */
  LOCAL_REGION_RTT_MS: z.string().default(""),
  ORT_EP: z.enum(["cpu", "cuda", "auto"]).default("auto"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("warn"),
});

export interface LocalRegion {
  config: RegionConfig;
  port: number;
  gpuPricePerHourMicrousd: number;
}

export interface StackConfig {
  dataDir: string;
  modelDir: string;
  edgeHost: string;
  edgePort: number;
  regionBasePort: number;
  rttMs: Record<string, number>;
  executionProvider: "cpu" | "cuda" | "auto";
  logLevel: z.infer<typeof Env>["LOG_LEVEL"];
}

export function stackConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid ${String(issue?.path[0])}: ${issue?.message}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  return {
    dataDir,
    modelDir: e.MODEL_DIR ? resolve(e.MODEL_DIR) : resolve(dataDir, "models"),
    edgeHost: e.EDGE_HOST,
    edgePort: e.EDGE_PORT,
    regionBasePort: e.REGION_BASE_PORT,
    rttMs: parseRtt(e.LOCAL_REGION_RTT_MS),
    executionProvider: e.ORT_EP,
    logLevel: e.LOG_LEVEL,
  };
}

function parseRtt(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9-]+)=(\d{1,5})$/.exec(part);
    if (!m) throw new Error(`invalid LOCAL_REGION_RTT_MS entry "${part}": expected name=ms`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function localRegions(config: StackConfig, ports: number[]): LocalRegion[] {
  return DEFAULT_LOCAL_REGIONS.map((r, i) => {
    const port = ports[i]!;
    const rtt = config.rttMs[r.name];
    return {
      port,
      gpuPricePerHourMicrousd: GPU_PRICE_PER_HOUR_MICROUSD[r.name]!,
      config: RegionConfig.parse({
        name: r.name,
        endpoint: `http://127.0.0.1:${port}`,
        lat: r.lat,
        lon: r.lon,
        ...(rtt === undefined ? {} : { rtt_ms: rtt }),
      }),
    };
  });
}
