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

export const MODEL_VERSION_STATUSES = ["canary", "active", "retired"] as const;
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
    status: text("status", { enum: MODEL_VERSION_STATUSES }).notNull().default("canary"),
    /** Share of unpinned traffic (0..1) a canary receives; active versions take the rest. */
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
    check("model_versions_status_check", oneOf(t.status, MODEL_VERSION_STATUSES)),
    check(
      "model_versions_traffic_share_check",
      sql`${t.trafficShare} >= 0 and ${t.trafficShare} <= 1`,
    ),
    check("model_versions_sha256_check", sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check("model_versions_bytes_check", sql`${t.bytes} >= 0`),
  ],
);

export type Model = typeof models.$inferSelect;
export type NewModel = typeof models.$inferInsert;
export type ModelVersion = typeof modelVersions.$inferSelect;
export type NewModelVersion = typeof modelVersions.$inferInsert;
