import type { GenerationRow } from "../../db/schema/generations.ts";

// Dedup keys this isolate has seen succeed, and the generation whose stored output answers them:
// a repeat of seeded work is then answered without first asking the database whether it ran. A
// succeeded generation's output never changes (content-addressed, same key = same bytes), so an
// entry only goes for room, or after `ttlMs` (an account deleted, an output taken down).

/** What an answer from storage copies from the generation that did the work. */
export type DedupSource = Pick<
  GenerationRow,
  | "id"
  | "contentHash"
  | "assetKey"
  | "contentType"
  | "bytes"
  | "width"
  | "height"
  | "outputSha256"
  | "region"
  | "moderation"
  | "params"
  | "costActualMicrousd"
>;

export class DedupSources {
  readonly #entries = new Map<string, { source: DedupSource; at: number }>();
  readonly #clock: () => number;
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(opts: { clock: () => number; ttlMs: number; maxEntries?: number }) {
    this.#clock = opts.clock;
    this.#ttlMs = opts.ttlMs;
    this.#maxEntries = opts.maxEntries ?? 5_000;
  }

  get(contentHash: string): DedupSource | null {
    const entry = this.#entries.get(contentHash);
    if (!entry) return null;
    if (this.#clock() - entry.at > this.#ttlMs) {
      this.#entries.delete(contentHash);
      return null;
    }
    return entry.source;
  }

  /**
   * Remembers a generation that did the work for its dedup key. Answers from storage (cached, at
   * no cost) are not sources: what a hit saves is what the work cost.
   */
  remember(row: GenerationRow): void {
    if (row.status !== "succeeded" || row.cached || row.contentHash === null) return;
    if (row.assetKey === null || row.mergedIntoGenerationId !== null) return;
    if (this.#entries.has(row.contentHash)) return;
    const { id, contentHash, assetKey, contentType, bytes, width, height } = row;
    const { outputSha256, region, moderation, params, costActualMicrousd } = row;
    this.#entries.set(contentHash, {
      source: {
        id,
        contentHash,
        assetKey,
        contentType,
        bytes,
        width,
        height,
        outputSha256,
        region,
        moderation,
        params,
        costActualMicrousd,
      },
      at: this.#clock(),
    });
    if (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}
