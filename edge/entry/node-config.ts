import { z } from "zod";
import { RegionList } from "../../contracts/region-protocol.ts";

const Json = z.string().transform((text, ctx) => {
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
  REGION_SIGNING_SECRET: z.string().min(16).optional(),
  ASSET_URL_SECRET: z.string().min(16).optional(),
  API_KEY_PEPPER: z.string().min(1).optional(),
  /** Key the accounts' webhook secrets derive from; default: derived from REGION_SIGNING_SECRET. */
  WEBHOOK_SIGNING_SECRET: z.string().min(16).optional(),
  /** The key being rotated out: messages are signed under both while it is set. */
  WEBHOOK_SIGNING_SECRET_PREVIOUS: z.string().min(16).optional(),
  /** Node: the in-memory response cache of public assets, in bytes (a few hundred images); 0: off. */
  EDGE_RESPONSE_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 40)
    .default(64 * 1024 * 1024),
  /** The edge's asset store (the role R2 plays on Workers). */
  EDGE_ASSETS_DIR: z.string().min(1).default(".data/edge-cache"),
  PUBLIC_URL: z.url().optional(),
  ENVIRONMENT: z.enum(["development", "production"]).default("development"),
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
