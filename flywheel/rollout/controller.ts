import { and, desc, eq, inArray } from "drizzle-orm";
import type { Database } from "../../db/client/index.ts";
import { versionStats } from "../../db/queries/model-metrics.ts";
import { applyRolloutStep } from "../../db/queries/models.ts";
import { modelRollouts, models, modelVersions } from "../../db/schema/models.ts";
import {
  decideRollout,
  DEFAULT_ROLLOUT_POLICY,
  type RolloutDecision,
  type RolloutPolicy,
} from "./policy.ts";

export interface RolloutOutcome {
  model: string;
  canary: string;
  default: string | null;
  decision: RolloutDecision;
}

export interface ControllerOptions {
  policy?: RolloutPolicy;
  /** false: measure every vote at weight 1 (see versionStats); default true. */
  fraudControls?: boolean;
}

/**
 * One pass of the rollout controller: for every model with a canary, compares the canary with
 * the default over the same window (since the canary started) and promotes or rolls back when the
 * policy says so (a history row with actor "auto", the reason and the evidence). Holds are not
 * written. Safe to run from several places: each step re-checks the state under a row lock.
 */
export async function evaluateRollouts(
  db: Database,
  options: ControllerOptions = {},
): Promise<RolloutOutcome[]> {
  const policy = options.policy ?? DEFAULT_ROLLOUT_POLICY;
  const canaries = await db
    .select({ model: models, canary: modelVersions })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(eq(modelVersions.status, "canary"));
  const outcomes: RolloutOutcome[] = [];
  for (const { model, canary } of canaries) {
    const [current] = await db
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.modelId, model.id), eq(modelVersions.status, "default")));
    const [started] = await db
      .select({ at: modelRollouts.createdAt })
      .from(modelRollouts)
      .where(
        and(eq(modelRollouts.modelVersionId, canary.id), inArray(modelRollouts.action, ["canary"])),
      )
      .orderBy(desc(modelRollouts.seq))
      .limit(1);
    const ids = current ? [canary.id, current.id] : [canary.id];
    const stats = await versionStats(db, {
      versionIds: ids,
      since: started?.at,
      fraudControls: options.fraudControls,
    });
    const empty = { served: 0, failed: 0, likes: 0, dislikes: 0, reports: 0, refines: 0 };
    const decision = decideRollout(
      stats.get(canary.id)!,
      current ? stats.get(current.id)! : empty,
      policy,
    );
    if (decision.action !== "hold") {
      await applyRolloutStep(
        db,
        model.name,
        { action: decision.action, version: canary.version },
        { actor: "auto", reason: decision.reason, evidence: decision.evidence },
      );
    }
    outcomes.push({
      model: model.name,
      canary: canary.version,
      default: current?.version ?? null,
      decision,
    });
  }
  return outcomes;
}

/** One controller pass from an edge's timer or cron: decisions logged, failures logged not thrown. */
export async function rolloutTick(
  db: Database,
  log: (entry: Record<string, unknown>) => void,
): Promise<void> {
  try {
    for (const o of await evaluateRollouts(db)) {
      if (o.decision.action === "hold") continue;
      log({
        level: "info",
        msg: `rollout ${o.decision.action}`,
        model: o.model,
        version: o.canary,
        reason: o.decision.reason,
      });
    }
  } catch (error) {
    log({ level: "error", msg: "rollout controller failed", error: (error as Error).message });
  }
}
