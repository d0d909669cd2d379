import {
  VECTORIZE_LIMITS as LIMITS,
  type VectorizeBinding,
  type VectorizeFilter,
  type VectorizeMatches,
  type VectorizeQueryOptions,
  type VectorizeScalar,
  type VectorizeVector,
} from "./vectorize-binding.ts";

// A local Vectorize index: the binding's query / upsert / deleteByIds / getByIds over vectors held
// in memory, exact (brute-force) search, and Vectorize's documented limits enforced the way the
// service enforces them, so code that passes here passes there: dimensions, float32 storage, id
// and namespace lengths, metadata size and keys, upsert batch size, vectors and namespaces per
// index, topK ceilings (100; 20 when values or all metadata come back), and metadata filters
// (operators, the 2 KiB compact-JSON ceiling, key rules, only properties that have a metadata
// index, created before the vector was written, strings compared on their first 64 bytes).
// Mutations apply before the call resolves (the service applies them within seconds).

export type MetadataIndexType = "string" | "number" | "boolean";

export class VectorizeLimitError extends Error {
  override readonly name = "VectorizeLimitError";
}

interface Stored {
  id: string;
  values: Float32Array;
  norm: number;
  namespace: string | undefined;
  metadata: VectorizeVector["metadata"];
  /** Values of the properties that had a metadata index when the vector was written. */
  indexed: Map<string, VectorizeScalar>;
}

const OPERATORS = new Set(["$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin"]);
const bytes = (s: string) => new TextEncoder().encode(s).byteLength;

/** The first 64 bytes of a string, cut on a character boundary. */
function indexedString(value: string): string {
  if (bytes(value) <= LIMITS.indexedStringBytes) return value;
  let out = "";
  for (const ch of value) {
    if (bytes(out + ch) > LIMITS.indexedStringBytes) break;
    out += ch;
  }
  return out;
}

function checkKey(key: string, what: string): void {
  if (key === "" || key.includes('"') || key.startsWith("$")) {
    throw new VectorizeLimitError(`${what} key ${JSON.stringify(key)} is not allowed`);
  }
}

export interface LocalVectorizeOptions {
  dimensions: number;
  metric?: "cosine" | "euclidean" | "dot-product";
  /** Metadata indexes, as `wrangler vectorize create-metadata-index` made them. */
  metadataIndexes?: Record<string, MetadataIndexType>;
}

export class LocalVectorize implements VectorizeBinding {
  readonly dimensions: number;
  readonly metric: "cosine" | "euclidean" | "dot-product";
  private readonly metadataIndexes = new Map<string, MetadataIndexType>();
  private readonly vectors = new Map<string, Stored>();
  private mutations = 0;

  constructor(opts: LocalVectorizeOptions) {
    if (!Number.isInteger(opts.dimensions) || opts.dimensions < 1) {
      throw new VectorizeLimitError("dimensions must be a positive integer");
    }
    if (opts.dimensions > LIMITS.maxDimensions) {
      throw new VectorizeLimitError(`an index has at most ${LIMITS.maxDimensions} dimensions`);
    }
    this.dimensions = opts.dimensions;
    this.metric = opts.metric ?? "cosine";
    for (const [property, type] of Object.entries(opts.metadataIndexes ?? {})) {
      this.createMetadataIndex(property, type);
    }
  }

  /** Only vectors written after this can be filtered on `property`. */
  createMetadataIndex(property: string, type: MetadataIndexType): void {
    checkKey(property, "metadata index");
    if (
      !this.metadataIndexes.has(property) &&
      this.metadataIndexes.size >= LIMITS.maxMetadataIndexes
    ) {
      throw new VectorizeLimitError(
        `an index has at most ${LIMITS.maxMetadataIndexes} metadata indexes`,
      );
    }
    this.metadataIndexes.set(property, type);
  }

  get size(): number {
    return this.vectors.size;
  }

  async upsert(vectors: VectorizeVector[]): Promise<{ mutationId: string }> {
    if (vectors.length > LIMITS.maxUpsertBatch) {
      throw new VectorizeLimitError(
        `an upsert from a Worker takes at most ${LIMITS.maxUpsertBatch} vectors, got ${vectors.length}`,
      );
    }
    const stored = vectors.map((v) => this.validate(v));
    const added = new Set(stored.filter((s) => !this.vectors.has(s.id)).map((s) => s.id)).size;
    if (this.vectors.size + added > LIMITS.maxVectorsPerIndex) {
      throw new VectorizeLimitError(`an index holds at most ${LIMITS.maxVectorsPerIndex} vectors`);
    }
    const namespaces = new Set([...this.vectors.values()].map((s) => s.namespace));
    for (const s of stored) namespaces.add(s.namespace);
    namespaces.delete(undefined);
    if (namespaces.size > LIMITS.maxNamespacesPerIndex) {
      throw new VectorizeLimitError(
        `an index has at most ${LIMITS.maxNamespacesPerIndex} namespaces`,
      );
    }
    for (const s of stored) this.vectors.set(s.id, s);
    return this.mutation();
  }

  async deleteByIds(ids: string[]): Promise<{ mutationId: string }> {
    for (const id of ids) this.vectors.delete(id);
    return this.mutation();
  }

  async getByIds(ids: string[]): Promise<VectorizeVector[]> {
    return ids.flatMap((id) => {
      const s = this.vectors.get(id);
      if (!s) return [];
      return [
        {
          id: s.id,
          values: Array.from(s.values),
          ...(s.namespace !== undefined && { namespace: s.namespace }),
          ...(s.metadata && { metadata: structuredClone(s.metadata) }),
        },
      ];
    });
  }

  async query(
    vector: number[] | Float32Array | Float64Array,
    options: VectorizeQueryOptions = {},
  ): Promise<VectorizeMatches> {
    if (vector.length !== this.dimensions) {
      throw new VectorizeLimitError(
        `query vector has ${vector.length} dimensions, the index ${this.dimensions}`,
      );
    }
    const topK = options.topK ?? 5;
    const heavy =
      options.returnValues === true ||
      options.returnMetadata === true ||
      options.returnMetadata === "all";
    const ceiling = heavy ? LIMITS.maxTopKWithValues : LIMITS.maxTopK;
    if (!Number.isInteger(topK) || topK < 1 || topK > ceiling) {
      throw new VectorizeLimitError(
        `topK must be 1..${ceiling}${heavy ? " when values or all metadata are returned" : ""}, got ${topK}`,
      );
    }
    const filter = options.filter;
    if (filter !== undefined) this.checkFilter(filter);
    const q = Float32Array.from(vector);
    const qNorm = Math.hypot(...q);
    const scored: Array<{ s: Stored; score: number }> = [];
    for (const s of this.vectors.values()) {
      if (options.namespace !== undefined && s.namespace !== options.namespace) continue;
      if (filter && !matches(s, filter)) continue;
      scored.push({ s, score: this.score(q, qNorm, s) });
    }
    scored.sort((a, b) => b.score - a.score || (a.s.id < b.s.id ? -1 : 1));
    const matched = scored.slice(0, topK).map(({ s, score }) => ({
      id: s.id,
      score,
      ...(s.namespace !== undefined && { namespace: s.namespace }),
      ...(options.returnValues && { values: Array.from(s.values) }),
      ...(heavy && s.metadata && { metadata: structuredClone(s.metadata) }),
      ...(options.returnMetadata === "indexed" && {
        metadata: Object.fromEntries(s.indexed),
      }),
    }));
    return { matches: matched, count: matched.length };
  }

  private score(q: Float32Array, qNorm: number, s: Stored): number {
    let dot = 0;
    for (let i = 0; i < q.length; i++) dot += q[i]! * s.values[i]!;
    if (this.metric === "dot-product") return dot;
    if (this.metric === "euclidean") {
      let sum = 0;
      for (let i = 0; i < q.length; i++) sum += (q[i]! - s.values[i]!) ** 2;
      return Math.sqrt(sum);
    }
    return qNorm === 0 || s.norm === 0 ? 0 : dot / (qNorm * s.norm);
  }

  private validate(v: VectorizeVector): Stored {
    if (typeof v.id !== "string" || v.id === "" || bytes(v.id) > LIMITS.maxIdBytes) {
      throw new VectorizeLimitError(
        `vector ids are 1..${LIMITS.maxIdBytes} bytes: ${String(v.id).slice(0, 80)}`,
      );
    }
    if (v.values.length !== this.dimensions) {
      throw new VectorizeLimitError(
        `vector ${v.id} has ${v.values.length} dimensions, the index ${this.dimensions}`,
      );
    }
    const values = Float32Array.from(v.values);
    if (!values.every(Number.isFinite))
      throw new VectorizeLimitError(`vector ${v.id} is not finite`);
    if (
      v.namespace !== undefined &&
      (v.namespace === "" || bytes(v.namespace) > LIMITS.maxNamespaceBytes)
    ) {
      throw new VectorizeLimitError(`namespaces are 1..${LIMITS.maxNamespaceBytes} bytes`);
    }
    const metadata = v.metadata ?? {};
    if (bytes(JSON.stringify(metadata)) > LIMITS.maxMetadataBytes) {
      throw new VectorizeLimitError(
        `vector ${v.id}: metadata is over ${LIMITS.maxMetadataBytes} bytes`,
      );
    }
    const indexed = new Map<string, VectorizeScalar>();
    for (const [key, value] of Object.entries(metadata)) {
      checkKey(key, "metadata");
      if (key.includes(".")) throw new VectorizeLimitError(`metadata key ${key} contains a dot`);
      const type = this.metadataIndexes.get(key);
      if (type !== undefined && typeof value === type) {
        indexed.set(
          key,
          typeof value === "string" ? indexedString(value) : (value as VectorizeScalar),
        );
      }
    }
    return {
      id: v.id,
      values,
      norm: Math.hypot(...values),
      namespace: v.namespace,
      metadata: v.metadata && structuredClone(v.metadata),
      indexed,
    };
  }

  private checkFilter(filter: VectorizeFilter): void {
    const keys = Object.keys(filter);
    if (keys.length === 0) throw new VectorizeLimitError("a filter must not be empty");
    if (bytes(JSON.stringify(filter)) >= LIMITS.maxFilterBytes) {
      throw new VectorizeLimitError(
        `a filter's compact JSON must be under ${LIMITS.maxFilterBytes} bytes`,
      );
    }
    for (const key of keys) {
      checkKey(key, "filter");
      if (key.length > LIMITS.maxFilterKeyChars)
        throw new VectorizeLimitError("filter key too long");
      if (!this.metadataIndexes.has(key)) {
        throw new VectorizeLimitError(`filter on "${key}", which has no metadata index`);
      }
      const condition = filter[key];
      if (condition === null || typeof condition !== "object") continue;
      const ops = Object.keys(condition);
      if (ops.length === 0) throw new VectorizeLimitError(`filter on "${key}" has no operator`);
      for (const op of ops) {
        if (!OPERATORS.has(op)) throw new VectorizeLimitError(`unsupported filter operator ${op}`);
        const operand = (condition as Record<string, unknown>)[op];
        const list = op === "$in" || op === "$nin";
        if (list !== Array.isArray(operand)) {
          throw new VectorizeLimitError(`${op} takes ${list ? "an array" : "a single value"}`);
        }
      }
    }
  }

  private mutation(): { mutationId: string } {
    this.mutations += 1;
    return { mutationId: `local-${this.mutations}-${crypto.randomUUID()}` };
  }
}

function compare(a: VectorizeScalar, b: VectorizeScalar): number {
  if (typeof a !== typeof b) return Number.NaN;
  return a < b ? -1 : a > b ? 1 : 0;
}

function matches(s: Stored, filter: VectorizeFilter): boolean {
  for (const [key, condition] of Object.entries(filter)) {
    const value = s.indexed.get(key);
    const norm = (x: VectorizeScalar | null | undefined) =>
      typeof x === "string" ? indexedString(x) : x;
    const ops =
      condition === null || typeof condition !== "object"
        ? { $eq: condition }
        : (condition as Record<string, VectorizeScalar | VectorizeScalar[] | null>);
    for (const [op, raw] of Object.entries(ops)) {
      const ok = (() => {
        switch (op) {
          case "$eq":
            return raw === null
              ? value === undefined
              : value !== undefined && value === norm(raw as VectorizeScalar);
          case "$ne":
            return raw === null ? value !== undefined : value !== norm(raw as VectorizeScalar);
          case "$in":
            return value !== undefined && (raw as VectorizeScalar[]).map(norm).includes(value);
          case "$nin":
            return value === undefined || !(raw as VectorizeScalar[]).map(norm).includes(value);
          default: {
            if (value === undefined || raw === null) return false;
            const c = compare(value, norm(raw as VectorizeScalar)!);
            if (Number.isNaN(c)) return false;
            return op === "$lt" ? c < 0 : op === "$lte" ? c <= 0 : op === "$gt" ? c > 0 : c >= 0;
          }
        }
      })();
      if (!ok) return false;
    }
  }
  return true;
}
