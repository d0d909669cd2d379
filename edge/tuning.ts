import { DEFAULT_ASSET_URL_TTL_S } from "./assets/asset-url.ts";
import { DEFAULT_LEASE_TUNING } from "./generations/leases.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./validation/index.ts";

/** The edge's tunables and their defaults; `EdgeDeps.tuning` overrides any of them. */
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
