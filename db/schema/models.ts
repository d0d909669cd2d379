import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  doublePrecision,
  index,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { createdAt, microusd, oneOf, updatedAt } from "./_helpers.ts";

export const models = pgTable(
  "models",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("model")),
    /** The public name clients ask for, e.g. "cppn-glove". */
    name: text("name").notNull(),
    description: text("description"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("models_name_idx").on(t.name)],
);

/**
 * Rollout state of a version. candidate: registered, served only when pinned; canary: also takes
 * `traffic_share` of the unpinned requests (sticky per account); default: takes the rest of them;
 * retired: not served at all. At most one canary and one default per model.
 */
export const MODEL_VERSION_STATUSES = ["candidate", "canary", "default", "retired"] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

export const modelVersions = pgTable(
  "model_versions",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("modelVersion")),
    // Versions are part of their model; generations keep the name and version as text.
    modelId: text("model_id")
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    version: text("version").notNull(),
    /** Hex SHA-256 of the artifact at `uri`, verified by regions before loading. */
    sha256: text("sha256").notNull(),
    uri: text("uri").notNull(),
    bytes: bigint("bytes", { mode: "number" }).notNull(),
    /** Pipeline kind from the manifest (e.g. "cppn", "text-denoise-decode"). */
    pipeline: text("pipeline").notNull(),
    status: text("status", { enum: MODEL_VERSION_STATUSES }).notNull().default("candidate"),
    /** Share of unpinned traffic (0..1) a canary receives; the default version takes the rest. */
    trafficShare: doublePrecision("traffic_share").notNull().default(0),
    /** Measured; null until the version has run. Drives pricing and queue-wait estimates. */
    gpuMsPerMegapixel: doublePrecision("gpu_ms_per_megapixel"),
    pricePerMegapixelMicrousd: microusd("price_per_megapixel_microusd").notNull(),
    /** The full model manifest (inputs, outputs, pre/post-processing), as shipped. */
    manifest: jsonb("manifest").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("model_versions_model_id_version_idx").on(t.modelId, t.version),
    index("model_versions_model_id_status_idx").on(t.modelId, t.status),
    uniqueIndex("model_versions_one_default_idx")
      .on(t.modelId)
      .where(sql`${t.status} = 'default'`),
    uniqueIndex("model_versions_one_canary_idx")
      .on(t.modelId)
      .where(sql`${t.status} = 'canary'`),
    check("model_versions_rollout_status_check", oneOf(t.status, MODEL_VERSION_STATUSES)),
    check(
      "model_versions_canary_share_check",
      sql`${t.status} = 'canary' or ${t.trafficShare} = 0`,
    ),
    check(
      "model_versions_traffic_share_check",
      sql`${t.trafficShare} >= 0 and ${t.trafficShare} <= 1`,
    ),
    check("model_versions_sha256_check", sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check("model_versions_bytes_check", sql`${t.bytes} >= 0`),
  ],
);

export const ROLLOUT_ACTIONS = [
  "register",
  "canary",
  "ramp",
  "promote",
  "rollback",
  "retire",
  "restore",
] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/**
 * The rollout history: one row per state change of a version, with why (the rule or the person)
 * and the measurements the decision was taken on. Append-only.
 */
export const modelRollouts = pgTable(
  "model_rollouts",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("modelRollout")),
    /** Order of the steps (several can share a transaction, hence a timestamp). */
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity(),
    modelId: text("model_id")
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    modelVersionId: text("model_version_id")
      .notNull()
      .references(() => modelVersions.id, { onDelete: "cascade" }),
    action: text("action", { enum: ROLLOUT_ACTIONS }).notNull(),
    fromStatus: text("from_status", { enum: MODEL_VERSION_STATUSES }),
    toStatus: text("to_status", { enum: MODEL_VERSION_STATUSES }).notNull(),
    trafficShare: doublePrecision("traffic_share").notNull().default(0),
    /** Who decided: "auto" (the rollout controller) or "admin:<name>" / "register". */
    actor: text("actor").notNull(),
    reason: text("reason").notNull(),
    /** Per-version measurements and the test statistic the decision used (null for manual steps). */
    evidence: jsonb("evidence").$type<Record<string, unknown>>(),
    createdAt: createdAt(),
  },
  (t) => [
    index("model_rollouts_model_id_seq_idx").on(t.modelId, t.seq),
    index("model_rollouts_model_version_id_idx").on(t.modelVersionId),
    check("model_rollouts_action_check", oneOf(t.action, ROLLOUT_ACTIONS)),
  ],
);

export type ModelRollout = typeof modelRollouts.$inferSelect;
export type NewModelRollout = typeof modelRollouts.$inferInsert;
export type Model = typeof models.$inferSelect;
export type NewModel = typeof models.$inferInsert;
export type ModelVersion = typeof modelVersions.$inferSelect;
export type NewModelVersion = typeof modelVersions.$inferInsert;
