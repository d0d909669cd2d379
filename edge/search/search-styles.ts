import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../../db/client/index.ts";
import { generations, type GenerationRow } from "../../db/schema/generations.ts";
import { projects } from "../../db/schema/projects.ts";
import { styleEmbeddings } from "../../db/schema/style-embeddings.ts";
import {
  checkEmbedding,
  InvalidStyleQueryError,
  type StyleFilters,
  type StyleIndex,
} from "../../storage/style-index/style-index.ts";
import { invalidRequest, unprocessable } from "../errors/index.ts";
import { DEFAULT_MODEL } from "../generations/create-generation.ts";
import { resolveModelVersion } from "../generations/model-version-cache.ts";
import { readableGeneration } from "./readable-generation.ts";
import { decodeCursor, encodeCursor, queryFingerprint } from "./search-cursor.ts";
import { styleRecordOf } from "./style-records.ts";
import { searchableBy } from "./visibility.ts";
import type { TextStyleEmbedder } from "./text-style.ts";

// Style search: a query (an output, a prompt, or an embedding) becomes a vector, the style index
// returns the nearest outputs the caller may see, and those are read back from the generations
// table, where the rule is checked once more against the current truth (project visibility,
// hidden flags) so an index that lags a change never shows what it no longer may.

export type SearchQuery =
  | { kind: "generation"; id: string }
  | { kind: "text"; text: string }
  | { kind: "embedding"; values: number[] };

export interface SearchInput {
  accountId: string;
  query: SearchQuery;
  project?: string;
  /** `name` or `name@version`. */
  model?: string;
  /** ISO times. */
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
  requestId: string;
}

export interface SearchDeps {
  db: Database;
  index: StyleIndex;
  texts: TextStyleEmbedder;
  clock: () => number;
}

export interface SearchHit {
  row: GenerationRow;
  /** Cosine similarity, -1..1. */
  score: number;
  owned: boolean;
}

export async function searchStyles(
  input: SearchInput,
  deps: SearchDeps,
): Promise<{ hits: SearchHit[]; nextCursor: string | null }> {
  const [modelName, modelVersion] = input.model?.split("@") ?? [];
  const filters: StyleFilters = {
    ...(input.project !== undefined && { projectId: input.project }),
    ...(modelName !== undefined && { model: modelName }),
    ...(modelVersion !== undefined && { modelVersion }),
    ...(input.from !== undefined && { from: Date.parse(input.from) }),
    ...(input.to !== undefined && { to: Date.parse(input.to) }),
  };
  const { embedding, identity, excludeId } = await queryVector(input, deps);
  if (excludeId !== undefined) filters.excludeId = excludeId;
  const fingerprint = await queryFingerprint({ identity, filters, viewer: input.accountId });
  const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, fingerprint);
  let found;
  try {
    found = await deps.index.query({
      embedding,
      viewer: { accountId: input.accountId },
      filters,
      // One more than the page: whether there is a next one.
      limit: input.limit + 1,
      ...(after && { after }),
    });
  } catch (err) {
    if (err instanceof InvalidStyleQueryError)
      throw invalidRequest("invalid_embedding", err.message, "embedding");
    throw err;
  }
  const page = found.slice(0, input.limit);
  const rows = await visibleRows(
    deps.db,
    input.accountId,
    page.map((h) => h.id),
  );
  const hits = page.flatMap((hit) => {
    const row = rows.get(hit.id);
    if (!row) return [];
    const score = Math.round((1 - hit.distance) * 1e6) / 1e6;
    return [{ row, score, owned: row.accountId === input.accountId }];
  });
  const last = page.at(-1);
  const nextCursor = found.length > input.limit && last ? encodeCursor(last, fingerprint) : null;
  return { hits, nextCursor };
}

/** The query's vector, what identifies it in a cursor, and the id a "more like this" leaves out. */
async function queryVector(
  input: SearchInput,
  deps: SearchDeps,
): Promise<{ embedding: number[]; identity: unknown; excludeId?: string }> {
  const { query } = input;
  switch (query.kind) {
    case "embedding": {
      try {
        checkEmbedding(query.values);
      } catch (err) {
        throw invalidRequest("invalid_embedding", (err as Error).message, "embedding");
      }
      return { embedding: query.values, identity: { embedding: query.values } };
    }
    case "generation": {
      const { row } = await readableGeneration(deps.db, input.accountId, query.id, "generation");
      const record = await styleRecordOf(deps.db, row);
      if (!record) {
        throw unprocessable(
          "style_embedding_missing",
          `generation ${row.id} has no style embedding (it has not succeeded, or was made before outputs had one)`,
          "generation",
        );
      }
      return {
        embedding: record.embedding,
        identity: { generation: row.id },
        excludeId: record.generationId,
      };
    }
    case "text": {
      const [name, pinned] = (input.model ?? DEFAULT_MODEL).split("@") as [string, string?];
      const resolved = await resolveModelVersion(
        deps.db,
        name,
        pinned,
        deps.clock(),
        input.accountId,
      );
      if (!resolved) {
        throw invalidRequest(
          "model_not_found",
          `model '${input.model ?? name}' is not available`,
          "model",
        );
      }
      const version = resolved.version.version;
      const embedding = await deps.texts.embed(name, version, query.text, input.requestId);
      return { embedding, identity: { text: query.text, model: `${name}@${version}` } };
    }
  }
}

/**
 * The rows of `ids` the viewer may see now: succeeded, not hidden, its own or in a public project.
 */
async function visibleRows(
  db: Database,
  accountId: string,
  ids: string[],
): Promise<Map<string, GenerationRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ row: generations })
    .from(generations)
    .innerJoin(styleEmbeddings, eq(styleEmbeddings.generationId, generations.id))
    .leftJoin(projects, eq(projects.id, generations.projectId))
    .where(and(inArray(generations.id, ids), searchableBy(accountId)));
  return new Map(rows.map(({ row }) => [row.id, row]));
}
