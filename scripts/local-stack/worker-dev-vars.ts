import { rm, writeFile } from "node:fs/promises";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import { NodeEdgeEnv } from "../../edge/entry/node-config.ts";
import type { LocalSecrets } from "./secrets.ts";

// The Worker's configuration under `npm run dev:worker`: the same variables and secrets a deployed
// Worker gets from `wrangler secret put` and `npm run deploy:edge`, with the local stack's values.
// Secrets go in a dotenv file of the data folder (mode 600; `wrangler dev --env-file`), not in
// arguments any process listing shows.

/** Variables of the Worker (edge/entry/worker.ts reads them; wrangler.toml `[secrets]` lists them). */
export function workerDevVars(input: {
  regions: RegionConfig[];
  secrets: LocalSecrets;
  databaseUrl: string;
}): Record<string, string> {
  return {
    ENVIRONMENT: "development",
    REGIONS: JSON.stringify(input.regions),
    DATABASE_URL: input.databaseUrl,
    REGION_SIGNING_SECRET: input.secrets.regionSigning,
    ASSET_URL_SECRET: input.secrets.assetUrl,
    API_KEY_PEPPER: input.secrets.apiKeyPepper,
  };
}

/**
 * Names wrangler must not take from its own environment. With `[secrets]` in wrangler.toml,
 * `wrangler dev` reads the process environment too, and a value there beats the file's: a
 * DATABASE_URL exported for some other purpose would otherwise point the Worker at that database.
 */
export const WORKER_VARIABLE_NAMES: readonly string[] = [
  ...Object.keys(NodeEdgeEnv.shape),
  "NEON_WS_PROXY",
];

/** dotenv text: single-quoted values, taken literally (no `$` expansion). */
export function toDotenv(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`invalid variable name ${name}`);
      if (/['\r\n]/.test(value)) {
        throw new Error(`${name}: a quote or line break cannot be written to a dotenv file`);
      }
      return `${name}='${value}'\n`;
    })
    .join("");
}

export async function writeDotenvFile(path: string, vars: Record<string, string>): Promise<void> {
  // Removed first: writeFile keeps the mode of a file that already exists.
  await rm(path, { force: true });
  await writeFile(path, toDotenv(vars), { mode: 0o600 });
}
