import type { Database } from "../../db/client/types.ts";
import { reportsOn } from "../../db/queries/feedback.ts";
import { insertModerationEvent } from "../../db/queries/moderation-events.ts";
import { openReview } from "../../db/queries/reviews.ts";
import { setStyleHidden } from "../../db/queries/style-embeddings.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { ASSETS_PATH } from "../assets/asset-url.ts";
import type { Log } from "../lib/log.ts";
import type { ResponseCache } from "../assets/response-cache.ts";
import { voterWeights } from "./feedback-stats.ts";
import type { HiddenAssets } from "./hidden-assets.ts";

export interface HideDeps {
  db: Database;
  clock: () => number;
  log: Log;
  /** Sum of reporter weights that hides an output. */
  reportThreshold: number;
  hiddenAssets: HiddenAssets;
  responseCache: ResponseCache | undefined;
  /** Origins the asset route caches responses under (the request's, the public URL's). */
  cacheOrigins: string[];
}

/** Drops every cached public copy of the asset this isolate can reach; the rest check HiddenAssets. */
export async function dropCachedAsset(
  key: string,
  deps: Pick<HideDeps, "hiddenAssets" | "responseCache" | "cacheOrigins">,
): Promise<void> {
  deps.hiddenAssets.add(key);
  const urls = new Set(deps.cacheOrigins.map((o) => new URL(`${ASSETS_PATH}/${key}`, o).href));
  await Promise.all([...urls].map((url) => deps.responseCache?.delete(new Request(url))));
}

/**
 * After a report: when the weights of the accounts reporting the output (own and test-mode reports
 * left out) add up to the threshold, the output is hidden and enters the review queue (once; an
 * approved output stays visible), a `review`/`flag` moderation event records it, and cached public
 * copies stop being served. Returns the hidden row, or null when nothing changed.
 */
export async function hideIfReported(
  target: GenerationRow,
  deps: HideDeps,
): Promise<GenerationRow | null> {
  if (target.reviewState !== null) return null;
  const reports = await reportsOn(deps.db, target.id);
  const weights = await voterWeights(
    deps.db,
    reports.map((r) => r.accountId),
  );
  const total = reports.reduce((sum, r) => sum + (weights.get(r.accountId) ?? 1), 0);
  if (total < deps.reportThreshold) return null;
  const at = new Date(deps.clock());
  const hidden = await deps.db.transaction(async (tx) => {
    const row = await openReview(tx, target.id, at);
    if (!row) return null;
    // Out of style search and references too (the style index follows at its next sync).
    await setStyleHidden(tx, [row.id], true);
    await insertModerationEvent(tx, {
      accountId: row.accountId,
      projectId: row.projectId,
      generationId: row.id,
      stage: "review",
      categories: [...new Set(reports.map((r) => r.reason ?? "other"))].sort(),
      scores: { report_weight: Math.round(total * 1000) / 1000 },
      matched: [
        {
          decision: "hidden",
          by: "reports",
          reports: reports.length,
          threshold: deps.reportThreshold,
        },
      ],
      action: "flag",
      createdAt: at,
    });
    return row;
  });
  if (!hidden) return null;
  deps.log({
    level: "info",
    msg: "output hidden after reports",
    generation_id: hidden.id,
    reports: reports.length,
    report_weight: total,
  });
  if (hidden.assetKey !== null) await dropCachedAsset(hidden.assetKey, deps);
  return hidden;
}
