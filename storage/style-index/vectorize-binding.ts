// The part of Cloudflare's `Vectorize` binding (@cloudflare/workers-types, Vectorize V2) the style
// index uses, declared structurally so Node code and tests need no Workers types: a Worker passes
// `env.<BINDING>` as it is, and tests pass the local stand-in (vectorize-stand-in.ts).

export type VectorizeMetadataValue = string | number | boolean | string[];
export type VectorizeScalar = string | number | boolean;

export interface VectorizeVector {
  id: string;
  values: number[] | Float32Array | Float64Array;
  namespace?: string;
  metadata?: Record<string, VectorizeMetadataValue | Record<string, VectorizeMetadataValue>>;
}

export type VectorizeFilterValue =
  | VectorizeScalar
  | null
  | { [op in "$eq" | "$ne" | "$lt" | "$lte" | "$gt" | "$gte"]?: VectorizeScalar | null }
  | { [op in "$in" | "$nin"]?: VectorizeScalar[] };

export type VectorizeFilter = Record<string, VectorizeFilterValue>;

export interface VectorizeQueryOptions {
  topK?: number;
  namespace?: string;
  returnValues?: boolean;
  returnMetadata?: boolean | "all" | "indexed" | "none";
  filter?: VectorizeFilter;
}

export interface VectorizeMatch {
  id: string;
  /** For a cosine index: cosine similarity, -1..1. */
  score: number;
  values?: number[];
  namespace?: string;
  metadata?: Record<string, unknown>;
}

export interface VectorizeMatches {
  matches: VectorizeMatch[];
  count: number;
}

export interface VectorizeBinding {
  query(
    vector: number[] | Float32Array | Float64Array,
    options?: VectorizeQueryOptions,
  ): Promise<VectorizeMatches>;
  /** Resolves once the service has the mutation (V2: `{ mutationId }`; it applies within seconds). */
  upsert(vectors: VectorizeVector[]): Promise<unknown>;
  deleteByIds(ids: string[]): Promise<unknown>;
  getByIds(ids: string[]): Promise<VectorizeVector[]>;
}

/** Vectorize's documented limits (developers.cloudflare.com/vectorize/platform/limits). */
export const VECTORIZE_LIMITS = {
  maxDimensions: 1536,
  maxIdBytes: 64,
  maxMetadataBytes: 10 * 1024,
  /** topK when values or all metadata are returned. */
  maxTopKWithValues: 20,
  maxTopK: 100,
  /** Per upsert or insert call from a Worker (5000 over the HTTP API). */
  maxUpsertBatch: 1000,
  maxVectorsPerIndex: 10_000_000,
  maxNamespacesPerIndex: 50_000,
  maxNamespaceBytes: 64,
  maxMetadataIndexes: 10,
  /** String metadata indexes cover the first 64 bytes of a value. */
  indexedStringBytes: 64,
  /** A filter's compact JSON must be shorter than this. */
  maxFilterBytes: 2048,
  maxFilterKeyChars: 512,
} as const;
