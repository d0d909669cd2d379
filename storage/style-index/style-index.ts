import { STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";

// One interface for every backend of style search (Postgres + pgvector, Cloudflare Vectorize) and
// for the sharded index over several of them. A query always names its viewer, and every backend
// applies the same rule itself: the viewer's own outputs and public ones, never hidden ones. There
// is no way to ask for anything else.

export type StyleVisibility = "private" | "public";

/** One output in the index. Ids are generation ids (at most 64 bytes: Vectorize's limit). */
export interface StyleEntry {
  id: string;
  accountId: string;
  projectId: string | null;
  model: string;
  modelVersion: string;
  visibility: StyleVisibility;
  /** Reported or removed: never returned. */
  hidden: boolean;
  /** Creation time of the generation (ms since the epoch): the date filters. */
  generatedAt: number;
  /** STYLE_EMBEDDING_DIMS finite values; compared by cosine (scale does not matter). */
  embedding: readonly number[];
}

export interface StyleFilters {
  projectId?: string;
  model?: string;
  modelVersion?: string;
  /** generatedAt >= from (ms). */
  from?: number;
  /** generatedAt < to (ms). */
  to?: number;
  /** Leave this id out (a "more like this" query's own generation). */
  excludeId?: string;
}

/** Where the previous page ended: results come strictly after it in (distance, id) order. */
export interface StyleCursor {
  distance: number;
  id: string;
}

export interface StyleQuery {
  embedding: readonly number[];
  viewer: { accountId: string };
  filters?: StyleFilters;
  /** 1..MAX_STYLE_RESULTS. */
  limit: number;
  after?: StyleCursor;
}

/** Cosine distance (1 - cosine similarity): 0 is the same style. */
export interface StyleHit {
  id: string;
  distance: number;
}

/** Most results one query returns (Vectorize's topK ceiling without values or metadata). */
export const MAX_STYLE_RESULTS = 100;

export interface StyleIndex {
  /** Inserts or replaces entries by id. */
  upsert(entries: readonly StyleEntry[]): Promise<void>;
  /** Removes entries by id; unknown ids are ignored. */
  remove(ids: readonly string[]): Promise<void>;
  /**
   * Nearest first by (distance, id), at most `limit`, among what the viewer may see: its own
   * entries and public ones, never hidden ones, narrowed by the filters.
   */
  query(query: StyleQuery): Promise<StyleHit[]>;
}

export class InvalidStyleQueryError extends RangeError {
  readonly code = "invalid_style_query";
  override readonly name = "InvalidStyleQueryError";
}

/** Checks an embedding: STYLE_EMBEDDING_DIMS finite values, not all zero. */
export function checkEmbedding(embedding: readonly number[], what = "embedding"): void {
  if (embedding.length !== STYLE_EMBEDDING_DIMS) {
    throw new InvalidStyleQueryError(
      `${what} must have ${STYLE_EMBEDDING_DIMS} values, got ${embedding.length}`,
    );
  }
  let norm = 0;
  for (const x of embedding) {
    if (!Number.isFinite(x)) throw new InvalidStyleQueryError(`${what} must be finite numbers`);
    norm += x * x;
  }
  if (norm === 0) throw new InvalidStyleQueryError(`${what} must not be all zeros`);
}

export function checkQuery(query: StyleQuery): void {
  checkEmbedding(query.embedding);
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_STYLE_RESULTS) {
    throw new InvalidStyleQueryError(`limit must be 1..${MAX_STYLE_RESULTS}, got ${query.limit}`);
  }
  if (!query.viewer.accountId) throw new InvalidStyleQueryError("a query needs its viewer");
}

export function checkEntries(entries: readonly StyleEntry[]): void {
  for (const entry of entries) {
    if (!entry.id || new TextEncoder().encode(entry.id).byteLength > 64) {
      throw new InvalidStyleQueryError(`entry id must be 1..64 bytes: ${entry.id.slice(0, 80)}`);
    }
    checkEmbedding(entry.embedding, `entry ${entry.id}'s embedding`);
  }
}

/** (distance, id) order, the one every backend and the shard merge use. */
export const byDistance = (a: StyleHit, b: StyleHit) =>
  a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Whether `hit` comes strictly after `cursor`. */
export const isAfter = (hit: StyleHit, cursor: StyleCursor | undefined) =>
  cursor === undefined || byDistance(hit, cursor) > 0;

/** Whether the viewer may see `entry` and it passes `filters` (for backends that filter in code). */
export function visibleTo(entry: StyleEntry, query: StyleQuery): boolean {
  if (entry.hidden) return false;
  if (entry.accountId !== query.viewer.accountId && entry.visibility !== "public") return false;
  const f = query.filters ?? {};
  return (
    (f.projectId === undefined || entry.projectId === f.projectId) &&
    (f.model === undefined || entry.model === f.model) &&
    (f.modelVersion === undefined || entry.modelVersion === f.modelVersion) &&
    (f.from === undefined || entry.generatedAt >= f.from) &&
    (f.to === undefined || entry.generatedAt < f.to) &&
    (f.excludeId === undefined || entry.id !== f.excludeId)
  );
}
