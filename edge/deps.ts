import type { RegionKeyMap } from "../contracts/region-keys.ts";
import type { NonceStore } from "../contracts/replay-guard.ts";
import type { RegionConfig } from "../contracts/region-protocol.ts";
import type { Database } from "../db/client/index.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import type { StyleIndex } from "../storage/style-index/style-index.ts";
import { DEFAULT_ASSET_URL_TTL_S } from "./assets/asset-url.ts";
import type { DedupSources } from "./dedup/dedup-sources.ts";
import type { GenerationNotifier } from "./generations/generation-notifier.ts";
import type { ReplayCache } from "./generations/replay-cache.ts";
import { DEFAULT_LEASE_TUNING } from "./generations/leases.ts";
import type { BudgetBook } from "./limits/budgets.ts";
import type { AccountLimiter } from "./limits/limiter-protocol.ts";
import type { PriceBook } from "./pricing/price-book.ts";
import type { Context } from "hono";
import type { AccessLimits } from "./limits/access-limits.ts";
import type { ApiKeyAuthenticator, AuthOptions } from "./middleware/auth/index.ts";
import type { RegionCatalog } from "./routing/region-catalog.ts";
import type { RegionKeyring } from "./routing/region-keyring.ts";
import type { RegionDirectory } from "./routing/region-directory.ts";
import type { SecretsKeySet } from "./webhooks/secret-box.ts";
import type { StyleIndexSync } from "./search/style-index-sync.ts";
import type { TextStyleEmbedder } from "./search/text-style.ts";
import type { WebhookDispatcher } from "./webhooks/webhook-dispatcher.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./validation/index.ts";

/** A response cache in front of the asset store: the Cache API on Workers. */
import type { HiddenAssets } from "./feedback/hidden-assets.ts";

export interface ResponseCache {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
  /** Drops what is held for the request's URL (a project made private); true when it held one. */
  delete(request: Request): Promise<boolean>;
}

export type Log = (entry: Record<string, unknown>) => void;

/** Everything the edge app needs from its runtime; entries (Workers, Node, Deno) build this. */
export interface EdgeDeps {
  /** Drizzle over the one schema, any driver. */
  db: Database;
  /** The edge's asset store: R2 on Workers, FsObjectStore on Node. */
  assets: ObjectStore;
  responseCache?: ResponseCache;
  regions: RegionConfig[];
  secrets: {
    /** Every region's current (and, in a rotation, previous) key: contracts/region-keys.ts. */
    regionKeys: RegionKeyMap;
    assetUrl: string;
    apiKeyPepper?: string;
    /** The keys the accounts' webhook secrets are stored under (edge/webhooks/secret-box.ts). */
    webhookSecretsKeys: SecretsKeySet;
  };
  /**
   * Base of callback and output URLs (PUBLIC_URL): configuration only, never a request's Host, so
   * no caller can point a region's signed events at a host of its choosing.
   */
  publicUrl: string;
  environment: "development" | "production";
  clock?: () => number;
  /**
   * Per-account rate, concurrency and spend counters: a Durable Object per account on Workers;
   * default, an in-process limiter (exact within this process).
   */
  limiter?: AccountLimiter;
  /** Used for calls to regions. */
  fetch?: typeof fetch;
  /**
   * Signatures of region calls already accepted (replay guard): a Durable Object per region on
   * Workers; default, in this process.
   */
  nonces?: NonceStore;
  /**
   * Webhook delivery. Default: one built from these deps that retries with in-process timers
   * (`fetch` for deliveries). The Node entry builds its own (SSRF-guarded fetch, restart resume);
   * the Worker passes one with `retries: "external"` (cron sweep).
   */
  webhooks?: WebhookDispatcher;
  /**
   * The client's address as this runtime knows it, for the limit on failed authentications:
   * Workers, CF-Connecting-IP (set by Cloudflare); Node and Deno, the connection's peer. Absent:
   * that limit is off.
   */
  clientAddress?: (c: Context) => string | undefined;
  /**
   * Style search's index. Default: Postgres (pgvector) in `db`, one private and one public shard
   * (defaultStyleIndex in edge/search/style-services.ts); the Worker passes Vectorize shards when it has them.
   */
  styleIndex?: StyleIndex;
  /** Workers' ctx.waitUntil; elsewhere the entry tracks the promises and awaits them on close. */
  waitUntil?: (work: Promise<unknown>) => void;
  /** One JSON object per line; never secrets or full prompts. */
  log?: Log;
  tuning?: Partial<EdgeTuning>;
}

export const DEFAULT_TUNING = {
  /** Per region: connect and answer of a job dispatch. */
  dispatchTimeoutMs: 5_000,
  /** Fetching an asset's bytes from its origin region. */
  originTimeoutMs: 10_000,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  /** In-isolate API key lookups: a revoked key stops working here within this long. */
  authCacheTtlMs: 30_000,
  authCacheMaxEntries: 10_000,
  /** Unknown keys remembered apart (a flood of them never evicts a valid key). */
  authUnknownCacheMaxEntries: 10_000,
  /** Per account, in this isolate: GET/HEAD requests a minute (token bucket), then 429. */
  readsPerMinute: 6_000,
  /** Per account, in this isolate: open event streams; the next is 429. */
  maxEventStreams: 10,
  /** Per account, in this isolate: `Prefer: wait` holds; past it a submit answers at once. */
  maxWaitingRequests: 20,
  /** Per client address (IPv6: per /64): requests with a bad key a minute, then 429. */
  failedAuthPerMinute: 20,
  /** Per account, in this isolate: votes cast or withdrawn a minute (token bucket), then 429. */
  votesPerMinute: 60,
  /**
   * Reports hide a public output once the sum of their reporters' weights (edge/feedback/README.md)
   * reaches this: three trusted accounts, or many more untrusted ones.
   */
  reportThreshold: 3,
  /**
   * A long-lived edge runs the rollout controller (flywheel/rollout) on its sweep timer this often;
   * 0: never (something else runs it, e.g. the simulation or `npm run admin -- models evaluate`).
   * Workers run it on their cron.
   */
  rolloutIntervalMs: 60_000,
  /** How long one read of the hidden outputs' keys is reused by the asset route's cache path. */
  hiddenAssetsTtlMs: 5_000,
  /** A region silent for longer is stale (heartbeats come every ~2 s). */
  heartbeatTtlMs: 15_000,
  breakerThreshold: 3,
  breakerCooldownMs: 30_000,
  /** How long one read of the regions table (prices, other isolates' heartbeats) is reused. */
  regionCatalogTtlMs: 5_000,
  /**
   * A replay (Idempotency-Key) answered from this isolate's copy of the generation shows it at
   * most this old; changes applied in this isolate are seen at once. Older: one read.
   */
  replayRowTtlMs: 5_000,
  /** A dedup key this isolate saw succeed is answered without a lookup for this long. */
  dedupSourceTtlMs: 60_000,
  /** `Prefer: wait` re-reads the row this often, for events applied in another isolate. */
  waitPollMs: 1_000,
  /**
   * Event streams re-read the row this often (in-process changes wake them at once): bounds the
   * delivery delay of a change applied in another isolate or process.
   */
  eventsPollMs: 250,
  /** A comment line on a quiet event stream this often, so proxies keep it open. */
  eventsKeepAliveMs: 15_000,
  /** An event stream closes after this long even if unfinished; EventSource clients reconnect. */
  eventsMaxStreamMs: 10 * 60_000,
  assetUrlTtlS: DEFAULT_ASSET_URL_TTL_S,
  /**
   * Dispatches of one generation (the first included) before it fails `region_lost`: a region
   * lost, a lease run out or a job handed back each use one.
   */
  maxDispatchAttempts: 3,
  ...DEFAULT_LEASE_TUNING,
  /** Webhooks: attempts in all, the delay before the 2nd (x6 each time), its cap, per-attempt timeout. */
  webhookMaxAttempts: 8,
  webhookRetryBaseMs: 5_000,
  webhookRetryMaxMs: 6 * 3_600_000,
  webhookTimeoutMs: 15_000,
};
export type EdgeTuning = typeof DEFAULT_TUNING;

/** EdgeDeps with defaults filled in and the per-app stateful parts built once. */
export interface EdgeServices {
  db: Database;
  assets: ObjectStore;
  responseCache: ResponseCache | undefined;
  secrets: EdgeDeps["secrets"];
  publicUrl: string;
  environment: EdgeDeps["environment"];
  clock: () => number;
  limiter: AccountLimiter;
  fetch: typeof fetch;
  waitUntil: (work: Promise<unknown>) => void;
  log: Log;
  tuning: EdgeTuning;
  directory: RegionDirectory;
  keyring: RegionKeyring;
  nonces: NonceStore;
  catalog: RegionCatalog;
  notifier: GenerationNotifier;
  authenticator: ApiKeyAuthenticator;
  /** What every keyed route's auth middleware is built from (authenticator and access limits). */
  access: AuthOptions;
  limits: AccessLimits;
  webhooks: WebhookDispatcher;
  /** The price table as this isolate last read it. */
  prices: PriceBook;
  /** Budgets as this isolate last read them. */
  budgets: BudgetBook;
  styleIndex: StyleIndex;
  /** Brings the style index up to the style records (kicked after region events, on a schedule). */
  styleSync: StyleIndexSync;
  /** Text queries into the style space, by a region running the model. */
  textStyles: TextStyleEmbedder;
  /** Idempotency-Keys this isolate answered (edge/generations/replay-cache.ts). */
  replays: ReplayCache;
  /** Dedup keys this isolate saw succeed (edge/dedup/dedup-sources.ts). */
  dedupSources: DedupSources;
  /** Outputs hidden by reports or removed, as this isolate last read them. */
  hiddenAssets: HiddenAssets;
}
