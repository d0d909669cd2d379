import type { EdgeServices } from "../deps.ts";
import type { GenerationFlowDeps } from "../generations/generation-flow-deps.ts";
import type { SweepDeps } from "../generations/lease-sweep.ts";

/** What the routes that create, dispatch, cancel or finish generations share, built once per app. */
export function generationDeps(s: EdgeServices): GenerationFlowDeps {
  return {
    db: s.db,
    catalog: s.catalog,
    directory: s.directory,
    fetch: s.fetch,
    keys: s.keyring,
    clock: s.clock,
    timeoutMs: s.tuning.dispatchTimeoutMs,
    log: s.log,
    limiter: s.limiter,
    notifier: s.notifier,
    webhooks: s.webhooks,
    waitUntil: s.waitUntil,
    leases: s.tuning,
    maxDispatchAttempts: s.tuning.maxDispatchAttempts,
    prices: s.prices,
    budgets: s.budgets,
    replays: s.replays,
    dedupSources: s.dedupSources,
    usageAlerts: { budgets: s.budgets, webhooks: s.webhooks },
  };
}

/** What the lease sweep needs: the generation flow, and when a silent region counts as gone. */
export function sweepDeps(s: EdgeServices): SweepDeps {
  return { ...generationDeps(s), heartbeatTtlMs: s.tuning.heartbeatTtlMs };
}
