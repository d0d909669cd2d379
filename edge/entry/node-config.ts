import { z } from "zod";
import { deriveRegionKeys, RegionKeyMap } from "../../contracts/region-keys.ts";
import { RegionList } from "../../contracts/region-protocol.ts";
import type { EdgeDeps } from "../deps.ts";
import { SecretsKeyText } from "../webhooks/secret-box.ts";

/** A JSON text, parsed (then piped into the schema of what it holds). */
export const Json = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: "must be JSON" });
    return z.NEVER;
  }
});

/** The Node edge's environment; read when startEdge runs, never at module load. */
export const NodeEdgeEnv = z.object({
  EDGE_PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  EDGE_HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z.string().min(1).default("pglite://.data/db"),
  /** Pool size for a postgres:// DATABASE_URL (node-postgres); default 10. */
  DATABASE_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1000).optional(),
  /** JSON array of RegionConfig. */
  REGIONS: Json.pipe(RegionList).optional(),
  /** JSON: every region's `{ current, previous? }` key, `<key id>:<secret>` (contracts/region-keys.ts). */
  REGION_SIGNING_KEYS: Json.pipe(RegionKeyMap).optional(),
  /** Development only (npm start, tests): each region's key is derived from it. */
  REGION_SIGNING_SECRET: z.string().min(16).optional(),
  ASSET_URL_SECRET: z.string().min(16).optional(),
  API_KEY_PEPPER: z.string().min(1).optional(),
  /** AES-256-GCM key the accounts' webhook secrets are stored under (edge/webhooks/secret-box.ts). */
  WEBHOOK_SECRETS_KEY: SecretsKeyText.optional(),
  /** The key being rotated out: still opens rows sealed with it. */
  WEBHOOK_SECRETS_KEY_PREVIOUS: SecretsKeyText.optional(),
  /** Node: the in-memory response cache of public assets, in bytes (a few hundred images); 0: off. */
  EDGE_RESPONSE_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 40)
    .default(64 * 1024 * 1024),
  /** The edge's asset store (the role R2 plays on Workers). */
  EDGE_ASSETS_DIR: z.string().min(1).default(".data/edge-cache"),
  /** Base of callback and output URLs; required in production (never taken from a request). */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Production unless this says development (npm start and the tests say so). */
  ENVIRONMENT: z.enum(["development", "production"]).default("production"),
});
export type NodeEdgeEnv = z.infer<typeof NodeEdgeEnv>;

/** Parses the environment, or throws one error naming every bad variable. */
export function readNodeEdgeEnv(env: Record<string, string | undefined>): NodeEdgeEnv {
  // An empty variable means unset, as in most shells' `VAR= command`.
  const set = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = NodeEdgeEnv.safeParse(set);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
  throw new Error(`invalid edge configuration:\n${problems.join("\n")}`);
}

/** What production cannot run without, and what each is for (docs/operations.md). */
export const PRODUCTION_REQUIRED = {
  REGION_SIGNING_KEYS: "every region's HMAC key",
  ASSET_URL_SECRET: "the key of signed asset URLs",
  API_KEY_PEPPER: "the pepper API keys are hashed with",
  WEBHOOK_SECRETS_KEY: "the key the accounts' webhook secrets are stored under",
  PUBLIC_URL: "the edge's own base URL (callbacks and output URLs)",
} as const;

type SecretInputs = Pick<
  NodeEdgeEnv,
  | "REGION_SIGNING_KEYS"
  | "REGION_SIGNING_SECRET"
  | "ASSET_URL_SECRET"
  | "API_KEY_PEPPER"
  | "WEBHOOK_SECRETS_KEY"
  | "WEBHOOK_SECRETS_KEY_PREVIOUS"
  | "PUBLIC_URL"
>;

/**
 * The edge's secrets from its configuration. Production refuses to start without any of
 * PRODUCTION_REQUIRED (one error naming all that are missing) and with the development-only
 * REGION_SIGNING_SECRET. Development fills what is missing: region keys derived from
 * REGION_SIGNING_SECRET, random per-process asset and webhook-storage keys (with a warning).
 */
export async function resolveEdgeSecrets(
  env: SecretInputs,
  environment: EdgeDeps["environment"],
  regionNames: readonly string[],
  log: NonNullable<EdgeDeps["log"]>,
): Promise<EdgeDeps["secrets"]> {
  if (environment === "production") {
    const missing = Object.entries(PRODUCTION_REQUIRED)
      .filter(([name]) => env[name as keyof SecretInputs] === undefined)
      .map(([name, what]) => `  ${name}: ${what}`);
    const problems = [...missing];
    if (env.REGION_SIGNING_SECRET !== undefined) {
      problems.push(
        "  REGION_SIGNING_SECRET: development only; production uses REGION_SIGNING_KEYS, one key per region",
      );
    }
    if (problems.length > 0) {
      throw new Error(
        `production edge is missing configuration (set ENVIRONMENT=development for a local run):\n${problems.join("\n")}`,
      );
    }
  }
  let regionKeys = env.REGION_SIGNING_KEYS;
  if (!regionKeys) {
    if (!env.REGION_SIGNING_SECRET) {
      throw new Error(
        "REGION_SIGNING_KEYS is required (or, in development, REGION_SIGNING_SECRET to derive them)",
      );
    }
    regionKeys = await deriveRegionKeys(env.REGION_SIGNING_SECRET, regionNames);
  }
  const random = (bytes: number) =>
    btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))));
  let assetUrl = env.ASSET_URL_SECRET;
  if (!assetUrl) {
    assetUrl = random(32);
    log({
      level: "warn",
      msg: "ASSET_URL_SECRET unset: signed asset URLs last until this process exits",
    });
  }
  let webhookKey = env.WEBHOOK_SECRETS_KEY;
  if (!webhookKey) {
    webhookKey = { id: "process", key: random(32) };
    log({
      level: "warn",
      msg: "WEBHOOK_SECRETS_KEY unset: accounts' webhook secrets made now are unreadable after this process exits",
    });
  }
  return {
    regionKeys,
    assetUrl,
    apiKeyPepper: env.API_KEY_PEPPER,
    webhookSecretsKeys: { current: webhookKey, previous: env.WEBHOOK_SECRETS_KEY_PREVIOUS },
  };
}
