import { z } from "zod";

// Accepted forms (object or URL string):
//   pglite://<dir>            PGlite persisted in <dir> (relative to the working directory);
//   pglite:// or memory://    PGlite in memory (tests);
//   postgres[ql]://...        node-postgres Pool (regional nodes, Node edge against Neon/RDS);
//   neon+postgres[ql]://...   @neondatabase/serverless Pool over WebSocket (the Worker's driver).
// Object forms: { kind: "pglite", dataDir? }, { kind: "postgres", url, maxConnections? },
// { kind: "neon", url, webSocketProxy? }.

const PgliteConfig = z.strictObject({
  kind: z.literal("pglite"),
  /** Omitted: in memory. */
  dataDir: z.string().min(1).optional(),
});

const PostgresConfig = z.strictObject({
  kind: z.literal("postgres"),
  url: z.string().regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL"),
  maxConnections: z.number().int().min(1).max(1000).optional(),
});

const NeonConfig = z.strictObject({
  kind: z.literal("neon"),
  url: z.string().regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL"),
  /**
   * Local development only: "host:port/path" of a WebSocket-to-TCP proxy in front of a plain
   * Postgres (Neon's wsproxy, or db/local/neon-gateway.ts). Switches to ws:// and turns off
   * the connection pipelining that only Neon's own proxy understands.
   */
  webSocketProxy: z.string().min(1).optional(),
});

const UrlConfig = z.strictObject({ url: z.string().min(1) });

export const DatabaseConfig = z.union([PgliteConfig, PostgresConfig, NeonConfig, UrlConfig]);
export type DatabaseConfig = z.input<typeof DatabaseConfig>;

export const ResolvedDatabaseConfig = z.discriminatedUnion("kind", [
  PgliteConfig,
  PostgresConfig,
  NeonConfig,
]);
export type ResolvedDatabaseConfig = z.infer<typeof ResolvedDatabaseConfig>;
export type PgliteConfig = z.infer<typeof PgliteConfig>;
export type PostgresConfig = z.infer<typeof PostgresConfig>;
export type NeonConfig = z.infer<typeof NeonConfig>;

/** Turns a URL string or config object into one driver's config; throws on anything else. */
export function resolveDatabaseConfig(input: string | DatabaseConfig): ResolvedDatabaseConfig {
  const config = DatabaseConfig.parse(typeof input === "string" ? { url: input } : input);
  if ("kind" in config) return config;
  return fromUrl(config.url);
}

function fromUrl(url: string): ResolvedDatabaseConfig {
  if (url === "memory://") return { kind: "pglite" };
  if (url.startsWith("pglite://")) {
    const dataDir = url.slice("pglite://".length);
    return dataDir === "" ? { kind: "pglite" } : { kind: "pglite", dataDir };
  }
  if (/^neon\+postgres(ql)?:\/\//.test(url)) {
    return ResolvedDatabaseConfig.parse({ kind: "neon", url: url.slice("neon+".length) });
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgres", url };
  // Name only the scheme: the rest of a URL may hold a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? "(none)";
  throw new Error(
    `unsupported database URL scheme ${scheme}: use pglite://, memory://, postgres://, postgresql:// or neon+postgres://`,
  );
}
