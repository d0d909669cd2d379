import { and, asc, desc, eq, inArray, ne } from "drizzle-orm";
import { z } from "zod";
import type { ServingVersions } from "../../edge/generations/canary-routing.ts";
import {
  planRollout,
  RolloutError,
  type RolloutStep,
  type VersionChange,
} from "../../flywheel/rollout/transitions.ts";
import type { Database } from "../client/types.ts";
import {
  MODEL_VERSION_STATUSES,
  modelRollouts,
  models,
  modelVersions,
  type Model,
  type ModelRollout,
  type ModelVersion,
  type ModelVersionStatus,
} from "../schema/models.ts";

export { RolloutError };

/** Thrown when a version is re-registered with different bytes: versions are immutable. */
export class ModelVersionConflictError extends Error {
  readonly code = "model_version_conflict";
  constructor(model: string, version: string) {
    super(`${model}@${version} is already registered with a different sha256`);
    this.name = "ModelVersionConflictError";
  }
}

/** What a model build or release step knows about a version (from its manifest). */
export const ModelVersionInput = z.strictObject({
  model: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  description: z.string().max(500).optional(),
  version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  uri: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  pipeline: z.string().min(1),
  /**
   * The rollout state wanted, reached through the rollout steps (and recorded in the history):
   * "default" promotes, "canary" starts one at `trafficShare`, "retired" retires. "active" (the
   * earlier name of "default") is still accepted. Omitted: a new version is a candidate.
   */
  status: z
    .enum([...MODEL_VERSION_STATUSES, "active"])
    .transform((s) => (s === "active" ? "default" : s))
    .optional(),
  trafficShare: z.number().min(0).max(1).optional(),
  gpuMsPerMegapixel: z.number().positive().optional(),
  pricePerMegapixelMicrousd: z.number().int().nonnegative(),
  manifest: z.record(z.string(), z.unknown()),
});
export type ModelVersionInput = z.input<typeof ModelVersionInput>;

/** A canary started by registration without a share takes this much of the unpinned traffic. */
export const DEFAULT_CANARY_SHARE = 0.1;

/**
 * Registers a model version, creating the model on first sight; a new version is a candidate (a
 * "register" row in the rollout history). Re-registering the same bytes (same sha256) updates its
 * location, price, manifest and measurement; different bytes under an existing version throw
 * ModelVersionConflictError. A `status` different from the version's takes the matching rollout
 * step (RolloutError when the state machine refuses it).
 */
export async function upsertModelVersion(
  db: Database,
  input: ModelVersionInput,
): Promise<ModelVersion> {
  const parsed = ModelVersionInput.parse(input);
  const { model: name, description, version, status, trafficShare, ...fields } = parsed;
  return db.transaction(async (tx) => {
    const [model] = await tx
      .insert(models)
      .values({ name, description })
      .onConflictDoUpdate({
        target: models.name,
        set: description === undefined ? { name } : { description },
      })
      .returning();
    if (!model) throw new Error("upsert into models returned no row");
    const [inserted] = await tx
      .insert(modelVersions)
      .values({ modelId: model.id, version, ...fields })
      .onConflictDoNothing()
      .returning();
    if (inserted) {
      await tx.insert(modelRollouts).values({
        modelId: model.id,
        modelVersionId: inserted.id,
        action: "register",
        toStatus: "candidate",
        actor: "register",
        reason: `registered ${name}@${version}`,
      });
    } else {
      const [updated] = await tx
        .update(modelVersions)
        .set(fields)
        .where(
          and(
            eq(modelVersions.modelId, model.id),
            eq(modelVersions.version, version),
            // Only the same artifact may be re-registered.
            eq(modelVersions.sha256, fields.sha256),
          ),
        )
        .returning();
      if (!updated) throw new ModelVersionConflictError(name, version);
      if (status === undefined || status === updated.status) return updated;
    }
    if (status === undefined || status === "candidate") return inserted!;
    const step = registrationStep(version, status, trafficShare);
    await applyRolloutInTransaction(tx, model.id, step, {
      actor: "register",
      reason: "registered",
    });
    const [row] = await tx
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.modelId, model.id), eq(modelVersions.version, version)));
    return row!;
  });
}

function registrationStep(
  version: string,
  status: Exclude<ModelVersionStatus, "candidate">,
  share: number | undefined,
): RolloutStep {
  switch (status) {
    case "default":
      return { action: "promote", version };
    case "canary":
      return { action: "canary", version, share: share || DEFAULT_CANARY_SHARE };
    case "retired":
      return { action: "retire", version };
  }
}

type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface RolloutNote {
  /** "auto" for the rollout controller, "admin" or "register" otherwise. */
  actor: string;
  reason: string;
  evidence?: Record<string, unknown> | null;
}

async function applyRolloutInTransaction(
  tx: Transaction,
  modelId: string,
  step: RolloutStep,
  note: RolloutNote,
): Promise<VersionChange[]> {
  // Locks the model's versions: concurrent steps on one model run one after the other.
  const versions = await tx
    .select()
    .from(modelVersions)
    .where(eq(modelVersions.modelId, modelId))
    .for("update");
  const changes = planRollout(versions, step);
  for (const c of changes) {
    await tx
      .update(modelVersions)
      .set({ status: c.to, trafficShare: c.share })
      .where(eq(modelVersions.id, c.id));
    await tx.insert(modelRollouts).values({
      modelId,
      modelVersionId: c.id,
      action: c.action,
      fromStatus: c.from,
      toStatus: c.to,
      trafficShare: c.share,
      actor: note.actor,
      reason: note.reason,
      evidence: note.evidence ?? null,
    });
  }
  return changes;
}

/**
 * Takes one rollout step on model `name` (see flywheel/rollout/transitions.ts) and records each
 * change in the rollout history, in one transaction. Throws RolloutError when the step is not
 * allowed, or when the model does not exist.
 */
export async function applyRolloutStep(
  db: Database,
  name: string,
  step: RolloutStep,
  note: RolloutNote,
): Promise<VersionChange[]> {
  return db.transaction(async (tx) => {
    const [model] = await tx.select().from(models).where(eq(models.name, name));
    if (!model) throw new RolloutError("model_not_found", `no model ${name}`);
    return applyRolloutInTransaction(tx, model.id, step, note);
  });
}

export type ResolvedModelVersion = { model: Model; version: ModelVersion };

/**
 * A pinned version (`name@version`) unless retired, or, without `version`, the model's default.
 * Null when the model or version is unknown or unavailable.
 */
export async function getActiveModelVersion(
  db: Database,
  name: string,
  version?: string,
): Promise<ResolvedModelVersion | null> {
  const statusFilter =
    version === undefined
      ? eq(modelVersions.status, "default")
      : and(eq(modelVersions.version, version), ne(modelVersions.status, "retired"));
  const [row] = await db
    .select({ model: models, version: modelVersions })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(and(eq(models.name, name), statusFilter))
    .orderBy(desc(modelVersions.createdAt), desc(modelVersions.id))
    .limit(1);
  return row ?? null;
}

/** The versions unpinned requests for `name` run on: its default and its canary (with share). */
export async function getServingVersions(
  db: Database,
  name: string,
): Promise<(ServingVersions<ModelVersion> & { model: Model }) | null> {
  const rows = await db
    .select({ model: models, version: modelVersions })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(and(eq(models.name, name), inArray(modelVersions.status, ["default", "canary"])));
  const first = rows[0];
  if (!first) return null;
  const current = rows.find((r) => r.version.status === "default")?.version ?? null;
  const canary = rows.find((r) => r.version.status === "canary")?.version ?? null;
  return {
    model: first.model,
    default: current,
    canary: canary ? { version: canary, share: canary.trafficShare } : null,
  };
}

/** The rollout history, newest first (of one model when `modelId` is given). */
export async function listRollouts(
  db: Database,
  options: { modelId?: string; limit?: number } = {},
): Promise<Array<ModelRollout & { version: string }>> {
  const rows = await db
    .select({ rollout: modelRollouts, version: modelVersions.version })
    .from(modelRollouts)
    .innerJoin(modelVersions, eq(modelVersions.id, modelRollouts.modelVersionId))
    .where(options.modelId === undefined ? undefined : eq(modelRollouts.modelId, options.modelId))
    .orderBy(desc(modelRollouts.seq))
    .limit(options.limit ?? 100);
  return rows.map((r) => ({ ...r.rollout, version: r.version }));
}

/** Every model with its versions (newest first), for `GET /v1/models` and canary routing. */
export async function listModels(
  db: Database,
): Promise<Array<Model & { versions: ModelVersion[] }>> {
  return db.query.models.findMany({
    orderBy: asc(models.name),
    with: { versions: { orderBy: [desc(modelVersions.createdAt), desc(modelVersions.id)] } },
  });
}
