import type { Database } from "../../db/client/index.ts";
import type { BudgetBook } from "../limits/budgets.ts";
import type { AccountLimiter } from "../limits/limiter-protocol.ts";
import type { UsageAlerts } from "../limits/settle-generation.ts";
import type { PriceBook } from "../pricing/price-book.ts";
import type { DispatchDeps } from "../routing/dispatch.ts";
import type { RegionCatalog } from "../routing/region-catalog.ts";
import type { GenerationWebhooks } from "../webhooks/generation-webhooks.ts";
import type { DedupSources } from "../dedup/dedup-sources.ts";
import type { GenerationNotifier } from "./generation-notifier.ts";
import type { ReplayCache } from "./replay-cache.ts";
import type { LeaseTuning } from "./leases.ts";

/**
 * What creating, dispatching, ending and redispatching generations needs, built once per app
 * (edge/routes/generation-deps.ts).
 */
export interface GenerationFlowDeps extends DispatchDeps {
  db: Database;
  catalog: RegionCatalog;
  limiter: AccountLimiter;
  notifier: GenerationNotifier;
  webhooks: GenerationWebhooks;
  /** Work that outlives the request (Workers' waitUntil); never rejects unobserved. */
  waitUntil: (work: Promise<unknown>) => void;
  leases: LeaseTuning;
  /** Dispatches of one generation (the first included) before it fails `region_lost`. */
  maxDispatchAttempts: number;
  /** The price table: estimates at dispatch, charges at completion. */
  prices: PriceBook;
  /** Budgets as this isolate last read them (the 100% rule at submit). */
  budgets: BudgetBook;
  /** Idempotency-Keys this isolate answered: replays answered without a round trip. */
  replays: ReplayCache;
  /** Dedup keys this isolate saw succeed: hits answered with one statement, no lookup first. */
  dedupSources: DedupSources;
  /** Budgets whose `usage.threshold` alerts are recorded where spend settles; none without. */
  usageAlerts?: UsageAlerts;
}
