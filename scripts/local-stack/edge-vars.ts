import { rm, writeFile } from "node:fs/promises";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import { NodeEdgeEnv } from "../../edge/entry/node-config.ts";
import type { LocalSecrets } from "./secrets.ts";

// The configuration of an edge the local stack runs as a child process (`npm run dev:worker`,
// `npm run dev:deno`): the variables and secrets a deployed edge gets (`wrangler secret put` and
// `npm run deploy:edge`; the Node entry's environment), with the local stack's values. Every entry
// reads them by the same names (edge/entry/node-config.ts, edge/entry/worker.ts).

/** The edge's variables; wrangler.toml's `[secrets]` lists the Worker's required ones. */
export function edgeVars(input: {
  /** The edge's own URL: job callbacks and output URLs start with it. */
  publicUrl: string;
  regions: RegionConfig[];
  secrets: LocalSecrets;
  databaseUrl: string;
}): Record<string, string> {
  return {
    ENVIRONMENT: "development",
    PUBLIC_URL: input.publicUrl,
    REGIONS: JSON.stringify(input.regions),
    DATABASE_URL: input.databaseUrl,
    // Development only: the edge derives each region's key from it, as the stack does for the
    // regions (contracts/region-keys.ts).
    REGION_SIGNING_SECRET: input.secrets.regionSigning,
    ASSET_URL_SECRET: input.secrets.assetUrl,
    API_KEY_PEPPER: input.secrets.apiKeyPepper,
    WEBHOOK_SECRETS_KEY: input.secrets.webhookSecretsKey,
  };
}

/**
 * Names a child edge must not inherit from the stack's environment: a DATABASE_URL exported for
 * some other purpose would otherwise point it at that database. (With `[secrets]` in wrangler.toml,
 * `wrangler dev` reads its process environment too, and a value there beats its env file's.)
 */
export const EDGE_VARIABLE_NAMES: readonly string[] = [
  ...Object.keys(NodeEdgeEnv.shape),
  "NEON_WS_PROXY",
];

/** `env` without the edge's variables. */
export function withoutEdgeVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of EDGE_VARIABLE_NAMES) delete out[name];
  return out;
}

/**
 * dotenv text: single-quoted values, taken literally (no `$` expansion). Secrets go in such a file
 * of the data folder (mode 600; `wrangler dev --env-file`), not in arguments a process list shows.
 */
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
