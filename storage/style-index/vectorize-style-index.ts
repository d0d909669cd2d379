import {
  byDistance,
  checkEntries,
  checkQuery,
  isAfter,
  MAX_STYLE_RESULTS,
  type StyleEntry,
  type StyleHit,
  type StyleIndex,
  type StyleQuery,
} from "./style-index.ts";
import {
  VECTORIZE_LIMITS,
  type VectorizeBinding,
  type VectorizeFilter,
  type VectorizeVector,
} from "./vectorize-binding.ts";
import type { MetadataIndexType } from "./vectorize-stand-in.ts";

// One shard of the style index on a Cloudflare Vectorize index (cosine, STYLE_EMBEDDING_DIMS). The
// viewer rule is a pre-filter on indexed metadata, so it never loses results after the search.
// Vectorize filters have no "or", so "own or public" is two queries (own private, all public)
// merged; a shard that the layout fills with only one kind asks only that one. Vectorize returns
// at most 100 matches: a page past the 100th nearest is not reachable (the cursor ends there).

/** Metadata properties a style index filters on; each needs a metadata index. */
export const STYLE_METADATA_INDEXES = {
  account: "string",
  project: "string",
  model: "string",
  version: "string",
  public: "boolean",
  hidden: "boolean",
  at: "number",
} as const satisfies Record<string, MetadataIndexType>;

export interface VectorizeStyleIndexOptions {
  binding: VectorizeBinding;
  /** What the layout puts in this index: only private outputs, only public ones, or both. */
  holds?: "private" | "public" | "both";
}

const metadataOf = (e: StyleEntry): NonNullable<VectorizeVector["metadata"]> => ({
  account: e.accountId,
  ...(e.projectId !== null && { project: e.projectId }),
  model: e.model,
  version: e.modelVersion,
  public: e.visibility === "public",
  hidden: e.hidden,
  at: e.generatedAt,
});

export class VectorizeStyleIndex implements StyleIndex {
  private readonly binding: VectorizeBinding;
  private readonly holds: "private" | "public" | "both";

  constructor(opts: VectorizeStyleIndexOptions) {
    this.binding = opts.binding;
    this.holds = opts.holds ?? "both";
  }

  async upsert(entries: readonly StyleEntry[]): Promise<void> {
    checkEntries(entries);
    for (let i = 0; i < entries.length; i += VECTORIZE_LIMITS.maxUpsertBatch) {
      const batch = entries.slice(i, i + VECTORIZE_LIMITS.maxUpsertBatch);
      await this.binding.upsert(
        batch.map((e) => ({ id: e.id, values: [...e.embedding], metadata: metadataOf(e) })),
      );
    }
  }

  async remove(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += VECTORIZE_LIMITS.maxUpsertBatch) {
      await this.binding.deleteByIds(ids.slice(i, i + VECTORIZE_LIMITS.maxUpsertBatch));
    }
  }

  async query(query: StyleQuery): Promise<StyleHit[]> {
    checkQuery(query);
    // Past a cursor, or leaving one id out, the page's entries may sit deeper than `limit`.
    const topK =
      query.after !== undefined
        ? MAX_STYLE_RESULTS
        : Math.min(MAX_STYLE_RESULTS, query.limit + (query.filters?.excludeId ? 1 : 0));
    const common = this.commonFilter(query);
    const filters: VectorizeFilter[] = [];
    if (this.holds !== "public") {
      filters.push({ ...common, account: { $eq: query.viewer.accountId }, public: { $eq: false } });
    }
    if (this.holds !== "private") filters.push({ ...common, public: { $eq: true } });
    const lists = await Promise.all(
      filters.map((filter) =>
        this.binding.query([...query.embedding], { topK, filter, returnMetadata: "none" }),
      ),
    );
    const excluded = query.filters?.excludeId;
    return lists
      .flatMap((l) => l.matches)
      .map((m) => ({ id: m.id, distance: 1 - m.score }))
      .filter((hit) => hit.id !== excluded && isAfter(hit, query.after))
      .sort(byDistance)
      .slice(0, query.limit);
  }

  private commonFilter(query: StyleQuery): VectorizeFilter {
    const f = query.filters ?? {};
    const filter: VectorizeFilter = { hidden: { $eq: false } };
    if (f.projectId !== undefined) filter.project = { $eq: f.projectId };
    if (f.model !== undefined) filter.model = { $eq: f.model };
    if (f.modelVersion !== undefined) filter.version = { $eq: f.modelVersion };
    if (f.from !== undefined || f.to !== undefined) {
      filter.at = {
        ...(f.from !== undefined && { $gte: f.from }),
        ...(f.to !== undefined && { $lt: f.to }),
      };
    }
    return filter;
  }
}
