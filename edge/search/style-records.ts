import { eq } from "drizzle-orm";
import type { JobEvent } from "../../contracts/region-protocol.ts";
import { STYLE_DESCRIPTOR, STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import type { Database, Transaction } from "../../db/client/index.ts";
import {
  findStyleRecordByOutput,
  getStyleRecord,
  recordStyle,
} from "../../db/queries/style-embeddings.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { projects } from "../../db/schema/projects.ts";
import type { StyleEmbedding } from "../../db/schema/style-embeddings.ts";
import type { StyleEntry } from "../../storage/style-index/style-index.ts";

// The style of each output as the edge keeps it: recorded from the `succeeded` event in the
// transaction that completes the generation, read back for references and "more like this", and
// turned into what the style index holds.

type Succeeded = Extract<JobEvent, { type: "succeeded" }>;

/**
 * Records `row`'s style from its `succeeded` event, through `tx` (the completing transaction).
 * An event without an embedding of the current descriptor (an older region) records nothing: the
 * output is then not searchable and cannot be referenced, which is all that is lost.
 */
export async function recordOutputStyle(
  tx: Transaction,
  row: GenerationRow,
  event: Succeeded,
): Promise<void> {
  const embedding = event.style_embedding;
  if (
    !embedding ||
    embedding.descriptor !== STYLE_DESCRIPTOR ||
    embedding.values.length !== STYLE_EMBEDDING_DIMS
  ) {
    return;
  }
  const [project] =
    row.projectId === null
      ? []
      : await tx
          .select({ visibility: projects.visibility })
          .from(projects)
          .where(eq(projects.id, row.projectId));
  await recordStyle(tx, {
    generationId: row.id,
    accountId: row.accountId,
    projectId: row.projectId,
    model: row.model,
    modelVersion: row.modelVersion,
    descriptor: embedding.descriptor,
    embedding: embedding.values,
    styleSpace: event.style_vector?.space ?? null,
    styleVector: event.style_vector?.values ?? null,
    visibility: project?.visibility ?? "private",
    generatedAt: row.createdAt,
  });
}

/**
 * The style record of a succeeded generation: its own, or for a copy of another generation's
 * output (dedup cache, merged request) that generation's. Null when there is none.
 */
export async function styleRecordOf(
  db: Database,
  row: GenerationRow,
): Promise<StyleEmbedding | null> {
  const own = await getStyleRecord(db, row.id);
  if (own || row.status !== "succeeded" || row.outputSha256 === null) return own;
  return findStyleRecordByOutput(db, row.accountId, row.outputSha256);
}

/** What the style index holds of a record. */
export function entryOf(record: StyleEmbedding): StyleEntry {
  return {
    id: record.generationId,
    accountId: record.accountId,
    projectId: record.projectId,
    model: record.model,
    modelVersion: record.modelVersion,
    visibility: record.visibility,
    hidden: record.hidden,
    generatedAt: record.generatedAt.getTime(),
    embedding: record.embedding,
  };
}
