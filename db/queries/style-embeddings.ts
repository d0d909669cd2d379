import { and, cosineDistance, eq, ne, or, sql, type SQL } from "drizzle-orm";
import type { Database } from "../client/types.ts";
import { generations, type GenerationRow } from "../schema/generations.ts";
import { projects } from "../schema/projects.ts";
import {
  STYLE_EMBEDDING_DIMENSIONS,
  styleEmbeddings,
  type StyleEmbedding,
} from "../schema/style-embeddings.ts";

function assertDimensions(embedding: readonly number[]): void {
  if (embedding.length !== STYLE_EMBEDDING_DIMENSIONS || !embedding.every(Number.isFinite)) {
    throw new RangeError(
      `style embedding must be ${STYLE_EMBEDDING_DIMENSIONS} finite numbers, got ${embedding.length}`,
    );
  }
}

/** Stores (or replaces) the style vector of a generation. */
export async function upsertStyleEmbedding(
  db: Database,
  {
    generationId,
    embedding,
    modelVersion,
  }: {
    generationId: string;
    embedding: readonly number[];
    modelVersion: string;
  },
): Promise<StyleEmbedding> {
  assertDimensions(embedding);
  const values = { generationId, embedding: [...embedding], modelVersion };
  const [row] = await db
    .insert(styleEmbeddings)
    .values(values)
    .onConflictDoUpdate({ target: styleEmbeddings.generationId, set: values })
    .returning();
  if (!row) throw new Error("upsert into style_embeddings returned no row");
  return row;
}

export async function getStyleEmbedding(
  db: Database,
  generationId: string,
): Promise<StyleEmbedding | null> {
  const [row] = await db
    .select()
    .from(styleEmbeddings)
    .where(eq(styleEmbeddings.generationId, generationId));
  return row ?? null;
}

export type SimilarStyle = { generation: GenerationRow; score: number };

/**
 * Succeeded generations whose style is closest to `embedding` (cosine, via the HNSW index),
 * limited to what `accountId` may see: its own and those in public projects. `score` is cosine
 * similarity (1 = same direction).
 */
export async function findSimilarStyles(
  db: Database,
  {
    embedding,
    accountId,
    limit = 10,
    modelVersion,
    excludeGenerationId,
  }: {
    embedding: readonly number[];
    accountId: string;
    limit?: number;
    /** Only vectors of this model version (vectors of different versions are not comparable). */
    modelVersion?: string;
    excludeGenerationId?: string;
  },
): Promise<SimilarStyle[]> {
  assertDimensions(embedding);
  const distance = cosineDistance(styleEmbeddings.embedding, [...embedding]);
  const filters: SQL[] = [
    eq(generations.status, "succeeded"),
    or(eq(generations.accountId, accountId), eq(projects.visibility, "public")) ?? sql`false`,
  ];
  if (modelVersion !== undefined) filters.push(eq(styleEmbeddings.modelVersion, modelVersion));
  if (excludeGenerationId !== undefined) {
    filters.push(ne(styleEmbeddings.generationId, excludeGenerationId));
  }
  const rows = await db
    .select({ generation: generations, distance: sql<number>`${distance}`.mapWith(Number) })
    .from(styleEmbeddings)
    .innerJoin(generations, eq(generations.id, styleEmbeddings.generationId))
    .leftJoin(projects, eq(projects.id, generations.projectId))
    .where(and(...filters))
    .orderBy(distance)
    .limit(Math.max(1, Math.min(limit, 100)));
  return rows.map(({ generation, distance: d }) => ({ generation, score: 1 - d }));
}
