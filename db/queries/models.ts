import { and, asc, desc, eq, ne } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../client/types.ts";
import {
  MODEL_VERSION_STATUSES,
  models,
  modelVersions,
  type Model,
  type ModelVersion,
} from "../schema/models.ts";

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
  status: z.enum(MODEL_VERSION_STATUSES).optional(),
  trafficShare: z.number().min(0).max(1).optional(),
  gpuMsPerMegapixel: z.number().positive().optional(),
  pricePerMegapixelMicrousd: z.number().int().nonnegative(),
  manifest: z.record(z.string(), z.unknown()),
});
export type ModelVersionInput = z.input<typeof ModelVersionInput>;

/**
 * Registers a model version, creating the model on first sight. Re-registering the same bytes
 * (same sha256) updates its location, price, manifest and any status/traffic/measurement given;
 * different bytes under an existing version throw ModelVersionConflictError.
 */
export async function upsertModelVersion(
  db: Database,
  input: ModelVersionInput,
): Promise<ModelVersion> {
  const { model: name, description, version, ...fields } = ModelVersionInput.parse(input);
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
    const [row] = await tx
      .insert(modelVersions)
      .values({ modelId: model.id, version, ...fields })
      .onConflictDoUpdate({
        target: [modelVersions.modelId, modelVersions.version],
        set: fields,
        // Only the same artifact may be re-registered.
        setWhere: eq(modelVersions.sha256, fields.sha256),
      })
      .returning();
    if (!row) throw new ModelVersionConflictError(name, version);
    return row;
  });
}

export type ResolvedModelVersion = { model: Model; version: ModelVersion };

/**
 * The version a request for `name` (or `name@version`) runs on: a pinned version unless retired;
 * otherwise the newest active one. Null when the model or version is unknown or unavailable.
 */
export async function getActiveModelVersion(
  db: Database,
  name: string,
  version?: string,
): Promise<ResolvedModelVersion | null> {
  const statusFilter =
    version === undefined
      ? eq(modelVersions.status, "active")
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

/** Every model with its versions (newest first), for `GET /v1/models` and canary routing. */
export async function listModels(
  db: Database,
): Promise<Array<Model & { versions: ModelVersion[] }>> {
  return db.query.models.findMany({
    orderBy: asc(models.name),
    with: { versions: { orderBy: [desc(modelVersions.createdAt), desc(modelVersions.id)] } },
  });
}
