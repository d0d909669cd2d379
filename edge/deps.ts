import type { RegionKeyMap } from "../contracts/region-keys.ts";
import type { NonceStore } from "../contracts/replay-guard.ts";
import type { RegionConfig } from "../contracts/region-protocol.ts";
import type { Database } from "../db/client/index.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import type { StyleIndex } from "../storage/style-index/style-index.ts";
import type { ResponseCache } from "./assets/response-cache.ts";
import type { DedupSources } from "./dedup/dedup-sources.ts";
import type { GenerationNotifier } from "./generations/generation-notifier.ts";
import type { ReplayCache } from "./generations/replay-cache.ts";
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
import type { HiddenAssets } from "./feedback/hidden-assets.ts";
import type { Log } from "./lib/log.ts";
import type { EdgeTuning } from "./tuning.ts";

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
