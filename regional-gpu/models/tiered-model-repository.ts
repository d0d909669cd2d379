import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import type { Logger } from "../log.ts";
import { MANIFEST_FILE, type ModelDiskCache } from "./disk-cache.ts";
import { digestMismatch, fileDigest } from "./file-digest.ts";
import type { ModelPoolEvents } from "./model-pool-events.ts";
import {
  filesOf,
  isModelRef,
  modelRef,
  type DiskTierStats,
  type MaterializedModel,
  type ModelRepository,
} from "./model-repository.ts";
import { parseManifest } from "./model-store.ts";
import type { RemoteModelStore } from "./remote-model-store.ts";
import { downloadVerified, fetchText } from "./store-download.ts";

// Warm tier in front of cold: manifests and files come from the disk cache when they are there and
// intact, else from the remote store (streamed, verified, renamed into the cache). Every file is
// hashed on every use; a corrupted one is deleted and fetched again. When the store is unreachable,
// what is on disk still serves and the rest fails with ModelStoreUnreachableError.

export interface TieredModelRepositoryOptions {
  store: RemoteModelStore;
  cache: ModelDiskCache;
  logger: Logger;
  events?: ModelPoolEvents;
  /** A store request that makes no progress for this long fails (MODEL_STORE_TIMEOUT_MS). */
  stallTimeoutMs: number;
  /** How long "no such version" is remembered, so unknown models do not hammer the store. */
  missTtlMs?: number;
  now?: () => number;
}

/** Bytes the manifest declares for its files (the tokenizer's size is not recorded). */
const declaredBytes = (manifest: ModelManifest) =>
  filesOf(manifest).reduce((sum, f) => sum + (f.bytes ?? 0), 0);

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code === "ENOENT";

export class TieredModelRepository implements ModelRepository {
  readonly description: string;
  private readonly opts: TieredModelRepositoryOptions;
  private readonly now: () => number;
  private readonly misses = new Map<string, number>();
  private readonly lookups = new Map<string, Promise<ModelManifest | null>>();

  constructor(opts: TieredModelRepositoryOptions) {
    this.opts = opts;
    this.description = opts.store.description;
    this.now = opts.now ?? Date.now;
  }

  /** A remote store is not enumerated: WARM_MODELS names what to pin. */
  async list(): Promise<string[]> {
    return [];
  }

  manifest(name: string, version: string): Promise<ModelManifest | null> {
    if (!isModelRef(name, version)) return Promise.resolve(null);
    const ref = modelRef(name, version);
    let pending = this.lookups.get(ref);
    if (!pending) {
      pending = this.lookUp(name, version).finally(() => this.lookups.delete(ref));
      this.lookups.set(ref, pending);
    }
    return pending;
  }

  async materialize(manifest: ModelManifest): Promise<MaterializedModel> {
    const { cache } = this.opts;
    const ref = modelRef(manifest.name, manifest.version);
    const release = cache.lock(ref);
    try {
      const dir = cache.folderOf(manifest.name, manifest.version);
      await mkdir(dir, { recursive: true });
      // Room for the whole version before any byte arrives, so the disk never overshoots.
      await cache.reserve(ref, declaredBytes(manifest));
      let fetched = false;
      for (const expected of filesOf(manifest)) {
        const path = join(dir, expected.file);
        const digest = await fileDigest(path).catch((err: unknown) =>
          isMissing(err) ? null : Promise.reject(err),
        );
        const problem = digest && digestMismatch(digest, expected);
        if (digest && !problem) continue;
        if (problem) {
          this.opts.logger.warn("corrupted file in the model disk cache; fetching it again", {
            model: ref,
            file: expected.file,
            detail: problem,
          });
          this.opts.events?.emit("corrupt", { ref, file: expected.file, detail: problem });
          await rm(path, { force: true });
        }
        await mkdir(dirname(path), { recursive: true });
        const key = `${manifest.name}/${manifest.version}/${expected.file}`;
        await downloadVerified({
          store: this.opts.store,
          key,
          path,
          expected,
          stallMs: this.opts.stallTimeoutMs,
        });
        fetched = true;
      }
      await cache.writeManifest(manifest);
      return { manifest, dir, tier: fetched ? "store" : "disk", release };
    } catch (err) {
      // Count what is really there again, not the room reserved for files that never came.
      await cache.record(ref).catch(() => {});
      release();
      throw err;
    }
  }

  diskStats(): DiskTierStats {
    return this.opts.cache.stats();
  }

  async close(): Promise<void> {
    await this.opts.store.close();
  }

  private remember(ref: string): void {
    const ttl = this.opts.missTtlMs ?? 5_000;
    // Bounded: expired misses go whenever the map grows large.
    if (this.misses.size >= 1_000) {
      for (const [key, at] of this.misses) if (this.now() - at >= ttl) this.misses.delete(key);
    }
    this.misses.set(ref, this.now());
  }

  private async lookUp(name: string, version: string): Promise<ModelManifest | null> {
    const cached = await this.opts.cache.readManifest(name, version);
    if (cached) return cached;
    const ref = modelRef(name, version);
    const missedAt = this.misses.get(ref);
    if (missedAt !== undefined && this.now() - missedAt < (this.opts.missTtlMs ?? 5_000)) {
      return null;
    }
    const key = `${name}/${version}/${MANIFEST_FILE}`;
    const text = await fetchText(this.opts.store, key, this.opts.stallTimeoutMs);
    if (text === null) {
      this.remember(ref);
      return null;
    }
    this.misses.delete(ref);
    const manifest = parseManifest(text, `${this.opts.store.description}${key}`, name, version);
    await this.opts.cache.writeManifest(manifest);
    return manifest;
  }
}
