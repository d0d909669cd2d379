import type { z } from "zod";
import type { ModelInfo } from "../../contracts/api.ts";
import { listModels, listRollouts } from "../../db/queries/models.ts";
import { versionStats } from "../../db/queries/model-metrics.ts";
import type { Database } from "../../db/client/index.ts";
import { rates } from "../../flywheel/rollout/policy.ts";
import { microusdToUsd } from "../generations/pricing.ts";

/** How many steps of each model's rollout history GET /v1/models shows. */
export const ROLLOUT_HISTORY_SHOWN = 20;

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** A trained version's manifest names its parent (flywheel/train); built ones have none. */
function parentVersion(manifest: Record<string, unknown>): string | null {
  const lineage = manifest.lineage as { parent_version?: unknown } | undefined;
  return typeof lineage?.parent_version === "string" ? lineage.parent_version : null;
}

/**
 * Every model with its versions (newest first), rollout state, preference metrics over all their
 * live generations, and the latest steps of its rollout history: GET /v1/models and
 * `npm run admin -- models`.
 */
export async function modelCatalog(db: Database): Promise<Array<z.infer<typeof ModelInfo>>> {
  const rows = await listModels(db);
  const stats = await versionStats(db, {
    versionIds: rows.flatMap((m) => m.versions.map((v) => v.id)),
  });
  return Promise.all(
    rows.map(async (m) => ({
      object: "model" as const,
      name: m.name,
      description: m.description,
      default_version: m.versions.find((v) => v.status === "default")?.version ?? null,
      versions: m.versions.map((v) => {
        const s = stats.get(v.id)!;
        const r = rates(s);
        return {
          version: v.version,
          status: v.status,
          traffic_share: v.trafficShare,
          parent_version: parentVersion(v.manifest),
          pipeline: v.pipeline,
          price_per_megapixel_usd: microusdToUsd(v.pricePerMegapixelMicrousd),
          gpu_ms_per_megapixel: v.gpuMsPerMegapixel,
          metrics: {
            served: s.served,
            like_rate: round4(r.like_rate),
            dislike_rate: round4(r.dislike_rate),
            refine_rate: round4(r.refine_rate),
            report_rate: round4(r.report_rate),
            failure_rate: round4(r.failure_rate),
          },
          created_at: v.createdAt.toISOString(),
        };
      }),
      rollouts: (await listRollouts(db, { modelId: m.id, limit: ROLLOUT_HISTORY_SHOWN })).map(
        (h) => ({
          version: h.version,
          action: h.action,
          from_status: h.fromStatus,
          to_status: h.toStatus,
          traffic_share: h.trafficShare,
          actor: h.actor,
          reason: h.reason,
          created_at: h.createdAt.toISOString(),
        }),
      ),
    })),
  );
}

/** How long GET /v1/models reuses one reading of the catalog and its metrics (per isolate). */
export const MODEL_CATALOG_TTL_MS = 15_000;
const cached = new WeakMap<Database, { at: number; value: ReturnType<typeof modelCatalog> }>();

/**
 * modelCatalog through a short per-isolate cache: the metrics aggregate every live generation of
 * each version, too much to redo on every GET /v1/models. A failed reading is not kept.
 */
export function cachedModelCatalog(db: Database, now: number): ReturnType<typeof modelCatalog> {
  const hit = cached.get(db);
  if (hit && now - hit.at < MODEL_CATALOG_TTL_MS && now >= hit.at) return hit.value;
  const value = modelCatalog(db);
  cached.set(db, { at: now, value });
  value.catch(() => cached.delete(db));
  return value;
}
