import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./app-env.ts";
import { DEFAULT_TUNING } from "./tuning.ts";
import type { EdgeDeps, EdgeServices } from "./deps.ts";
import type { Log } from "./lib/log.ts";
import { errorHandler, notFoundHandler } from "./errors/index.ts";
import { describeError } from "./lib/describe-error.ts";
import { DedupSources } from "./dedup/dedup-sources.ts";
import { GenerationNotifier } from "./generations/generation-notifier.ts";
import { ReplayCache } from "./generations/replay-cache.ts";
import { HiddenAssets } from "./feedback/hidden-assets.ts";
import { BudgetBook } from "./limits/budgets.ts";
import { AccessLimits } from "./limits/access-limits.ts";
import { InProcessAccountLimiter } from "./limits/in-process-limiter.ts";
import { PriceBook } from "./pricing/price-book.ts";
import { ASSETS_PATH } from "./assets/asset-url.ts";
import { accessLog } from "./middleware/access-log/index.ts";
import { cachedAsset } from "./middleware/cached-asset/index.ts";
import { corsPolicy } from "./middleware/cors-policy/index.ts";
import { ApiKeyAuthenticator } from "./middleware/auth/index.ts";
import { requestId } from "./middleware/request-id/index.ts";
import { securityHeaders } from "./middleware/security-headers/index.ts";
import { mountOpenApi } from "./openapi/document.ts";
import { openApiRouter } from "./openapi/router.ts";
import { RegionCatalog } from "./routing/region-catalog.ts";
import { RegionDirectory } from "./routing/region-directory.ts";
import { RegionKeyring } from "./routing/region-keyring.ts";
import { ReplayGuard } from "../contracts/replay-guard.ts";
import { assetRoutes } from "./routes/assets.ts";
import { budgetRoutes } from "./routes/budgets.ts";
import { catalogRoutes } from "./routes/catalog.ts";
import { generationProgressRoutes } from "./routes/generation-progress.ts";
import { generationUpscaleRoutes } from "./routes/generation-upscale.ts";
import { feedbackRoutes } from "./routes/feedback.ts";
import { generationRoutes } from "./routes/generations.ts";
import { healthRoutes } from "./routes/health.ts";
import { internalRegionRoutes } from "./routes/internal-regions.ts";
import { keyRoutes } from "./routes/keys.ts";
import { pageRoutes } from "./routes/pages.ts";
import { pricingRoutes } from "./routes/pricing.ts";
import { projectRoutes } from "./routes/projects.ts";
import { searchRoutes } from "./routes/search.ts";
import { usageRoutes } from "./routes/usage.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { styleServices } from "./search/style-services.ts";
import { WebhookDispatcher, webhookTuning } from "./webhooks/webhook-dispatcher.ts";

const jsonLines: Log = (entry) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));

/** Fills defaults and builds the per-app state (region directory, key cache, notifier) once. */
export function buildServices(deps: EdgeDeps): EdgeServices {
  const log = deps.log ?? jsonLines;
  const clock = deps.clock ?? Date.now;
  const tuning = { ...DEFAULT_TUNING, ...deps.tuning };
  const run = deps.waitUntil;
  // Background work never rejects unobserved: failures become log lines.
  const waitUntil = (work: Promise<unknown>) => {
    const guarded = work.catch((err: unknown) =>
      log({ level: "error", msg: "background task failed", error: describeError(err) }),
    );
    run?.(guarded);
  };
  const directory = new RegionDirectory(deps.regions, {
    clock,
    heartbeatTtlMs: tuning.heartbeatTtlMs,
    breakerThreshold: tuning.breakerThreshold,
    breakerCooldownMs: tuning.breakerCooldownMs,
  });
  const notifier = new GenerationNotifier();
  const catalog = new RegionCatalog({
    db: deps.db,
    directory,
    clock,
    ttlMs: tuning.regionCatalogTtlMs,
    log,
    background: waitUntil,
  });
  const authenticator = new ApiKeyAuthenticator({
    db: deps.db,
    pepper: deps.secrets.apiKeyPepper,
    clock,
    cacheTtlMs: tuning.authCacheTtlMs,
    cacheMaxEntries: tuning.authCacheMaxEntries,
    unknownCacheMaxEntries: tuning.authUnknownCacheMaxEntries,
    waitUntil,
  });
  const limits = new AccessLimits({ ...tuning, clock });
  const keyring = new RegionKeyring(deps.secrets.regionKeys);
  const unkeyed = keyring.missing(deps.regions.map((r) => r.name));
  if (unkeyed.length > 0) {
    throw new Error(`REGION_SIGNING_KEYS has no key for region(s): ${unkeyed.join(", ")}`);
  }
  const fetcher = deps.fetch ?? ((input, init) => fetch(input, init));
  return {
    db: deps.db,
    assets: deps.assets,
    responseCache: deps.responseCache,
    secrets: deps.secrets,
    publicUrl: deps.publicUrl,
    environment: deps.environment,
    clock,
    limiter: deps.limiter ?? new InProcessAccountLimiter({ clock }),
    fetch: fetcher,
    waitUntil,
    log,
    tuning,
    directory,
    catalog,
    prices: new PriceBook({
      db: deps.db,
      catalog,
      clock,
      ttlMs: tuning.regionCatalogTtlMs,
      log,
      background: waitUntil,
    }),
    budgets: new BudgetBook({
      db: deps.db,
      clock,
      ttlMs: tuning.regionCatalogTtlMs,
      background: waitUntil,
    }),
    hiddenAssets: new HiddenAssets({ db: deps.db, clock, ttlMs: tuning.hiddenAssetsTtlMs }),
    keyring,
    nonces: deps.nonces ?? new ReplayGuard({ clock }),
    notifier,
    replays: new ReplayCache({ clock, rowTtlMs: tuning.replayRowTtlMs, notifier }),
    dedupSources: new DedupSources({ clock, ttlMs: tuning.dedupSourceTtlMs }),
    webhooks:
      deps.webhooks ??
      new WebhookDispatcher({
        db: deps.db,
        fetch: fetcher,
        secretsKeys: deps.secrets.webhookSecretsKeys,
        assetUrlSecret: deps.secrets.assetUrl,
        environment: deps.environment,
        clock,
        log,
        waitUntil,
        retries: "timers",
        ...webhookTuning(tuning),
      }),
    authenticator,
    limits,
    access: { authenticator, limits, clientAddress: deps.clientAddress },
    ...styleServices({
      db: deps.db,
      styleIndex: deps.styleIndex,
      directory,
      fetch: fetcher,
      keys: keyring,
      clock,
      log,
      timeoutMs: tuning.dispatchTimeoutMs,
    }),
  };
}

/** The edge app of API.md, on any runtime: the entry passes its runtime's dependencies. */
export function createApp(deps: EdgeDeps): OpenAPIHono<AppEnv> {
  return createEdge(deps).app;
}

/**
 * The app and the services it was built on, for entries that also run background work over them
 * (the lease sweep: a timer on Node and Deno, the cron trigger on Workers).
 */
export function createEdge(deps: EdgeDeps): { app: OpenAPIHono<AppEnv>; services: EdgeServices } {
  const s = buildServices(deps);
  return { app: appOf(s), services: s };
}

function appOf(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  // Before everything else: a cached public asset needs none of the chain (it sets what it must).
  app.use(
    `${ASSETS_PATH}/*`,
    cachedAsset({
      responseCache: s.responseCache,
      environment: s.environment,
      assetUrlSecret: s.secrets.assetUrl,
      clock: s.clock,
      log: s.log,
      hidden: (key) => s.hiddenAssets.has(key),
    }),
  );
  app.use("*", requestId());
  app.use("*", accessLog({ log: s.log }));
  app.use("*", securityHeaders({ environment: s.environment }));
  app.use("/v1/*", corsPolicy());
  app.route("/", healthRoutes(s));
  app.route("/v1/generations", generationRoutes(s));
  app.route("/v1/generations", generationProgressRoutes(s));
  app.route("/v1/generations", generationUpscaleRoutes(s));
  app.route("/v1", feedbackRoutes(s));
  app.route("/v1", webhookRoutes(s));
  app.route("/v1/assets", assetRoutes(s));
  app.route("/v1", catalogRoutes(s));
  app.route("/v1", pricingRoutes(s));
  app.route("/v1/keys", keyRoutes(s));
  app.route("/v1/projects", projectRoutes(s));
  app.route("/v1/usage", usageRoutes(s));
  app.route("/v1/budgets", budgetRoutes(s));
  app.route("/v1", searchRoutes(s));
  app.route("/internal/regions", internalRegionRoutes(s));
  app.route("/", pageRoutes(s));
  mountOpenApi(app);
  app.onError(errorHandler(s.log));
  app.notFound(notFoundHandler);
  return app;
}
