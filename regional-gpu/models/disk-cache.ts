import { mkdir, readdir, readFile, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import { writeFileAtomic } from "../model-build/atomic-file.ts";
import type { Logger } from "../log.ts";
import { ByteLru } from "./byte-lru.ts";
import type { ModelPoolEvents } from "./model-pool-events.ts";
import { isModelRef, modelRef, parseModelRef, type DiskTierStats } from "./model-repository.ts";
import { parseManifest } from "./model-store.ts";

// The warm tier's bookkeeping: <dir>/<name>/<version>/{manifest.json, files...}, evicted whole
// version by version, least recently used first, to stay under maxBytes. Recency survives restarts
// as the manifest's mtime. A version being loaded is locked against eviction. One node per folder:
// the index lives in this process.

export const MANIFEST_FILE = "manifest.json";
const PARTIAL = /\.partial$/;

export interface ModelDiskCacheOptions {
  dir: string;
  maxBytes: number;
  logger: Logger;
  events?: ModelPoolEvents;
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code === "ENOENT";

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

/**
 * Bytes of the finished files under `dir`. At startup (`dropPartials`) downloads an earlier process
 * left unfinished are deleted; later they may be in progress.
 */
async function folderBytes(dir: string, dropPartials = false): Promise<number> {
  let sum = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(
    (err: unknown) => (isMissing(err) ? [] : Promise.reject(err)),
  );
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (PARTIAL.test(entry.name)) {
      if (dropPartials) await rm(path, { force: true });
      continue;
    }
    sum += await stat(path).then(
      (s) => s.size,
      (err: unknown) => (isMissing(err) ? 0 : Promise.reject(err)),
    );
  }
  return sum;
}

export class ModelDiskCache {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly logger: Logger;
  private readonly events: ModelPoolEvents | undefined;
  private readonly lru = new ByteLru<string>();
  private readonly locks = new Map<string, number>();

  constructor(opts: ModelDiskCacheOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.logger = opts.logger;
    this.events = opts.events;
  }

  /** Indexes what an earlier run left, oldest use first, then trims to maxBytes. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const found: { ref: string; bytes: number; usedAt: number }[] = [];
    for (const name of await subdirs(this.dir)) {
      for (const version of await subdirs(join(this.dir, name))) {
        const folder = join(this.dir, name, version);
        const usedAt = isModelRef(name, version)
          ? await stat(join(folder, MANIFEST_FILE)).then(
              (s) => s.mtimeMs,
              () => null,
            )
          : null;
        // Not a cache entry (no manifest, or a name this cache never writes): remove it.
        if (usedAt === null) {
          await rm(folder, { recursive: true, force: true });
          continue;
        }
        found.push({
          ref: modelRef(name, version),
          bytes: await folderBytes(folder, true),
          usedAt,
        });
      }
    }
    found.sort((a, b) => a.usedAt - b.usedAt);
    for (const entry of found) this.lru.set(entry.ref, entry.bytes);
    await this.trim();
    this.logger.info("model disk cache opened", {
      dir: this.dir,
      entries: this.lru.size,
      bytes: this.lru.totalBytes,
      max_bytes: this.maxBytes,
    });
  }

  folderOf(name: string, version: string): string {
    return join(this.dir, name, version);
  }

  /** The cached manifest, or null; an unreadable one is dropped with its folder. */
  async readManifest(name: string, version: string): Promise<ModelManifest | null> {
    const path = join(this.folderOf(name, version), MANIFEST_FILE);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      return parseManifest(text, path, name, version);
    } catch (err) {
      this.logger.warn("dropping an invalid cached manifest", { path, err });
      await this.remove(modelRef(name, version));
      return null;
    }
  }

  async writeManifest(manifest: ModelManifest): Promise<void> {
    const folder = this.folderOf(manifest.name, manifest.version);
    await mkdir(folder, { recursive: true });
    await writeFileAtomic(join(folder, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await this.record(modelRef(manifest.name, manifest.version));
  }

  /** Protects a version from eviction until the returned function is called. */
  lock(ref: string): () => void {
    this.locks.set(ref, (this.locks.get(ref) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.locks.get(ref) ?? 1) - 1;
      if (left > 0) this.locks.set(ref, left);
      else this.locks.delete(ref);
    };
  }

  /** Re-measures a version's folder, marks it used now, and evicts others past maxBytes. */
  async record(ref: string): Promise<void> {
    const parsed = parseModelRef(ref);
    if (!parsed) throw new Error(`invalid model ref ${ref}`);
    const folder = this.folderOf(...parsed);
    const now = new Date();
    await utimes(join(folder, MANIFEST_FILE), now, now).catch(() => {});
    this.lru.set(ref, await folderBytes(folder));
    await this.trim();
  }

  /** Counts `bytes` for a version about to be fetched, evicting others to make room. */
  async reserve(ref: string, bytes: number): Promise<void> {
    this.lru.set(ref, Math.max(bytes, this.lru.bytesOf(ref) ?? 0));
    await this.trim();
  }

  /** Deletes a version's folder. */
  async remove(ref: string): Promise<void> {
    const parsed = parseModelRef(ref);
    if (!parsed) return;
    this.lru.delete(ref);
    await rm(this.folderOf(...parsed), { recursive: true, force: true });
  }

  stats(): DiskTierStats {
    return {
      dir: this.dir,
      entries: this.lru.size,
      bytes: this.lru.totalBytes,
      maxBytes: this.maxBytes,
    };
  }

  private async trim(): Promise<void> {
    const { keys, fits } = this.lru.victims(this.maxBytes, 0, (ref) => this.locks.has(ref));
    for (const ref of keys) {
      const bytes = this.lru.bytesOf(ref) ?? 0;
      await this.remove(ref);
      this.logger.info("model evicted from disk", { model: ref, bytes });
      this.events?.emit("evict", { ref, tier: "disk", bytes });
    }
    if (!fits) {
      this.logger.warn("model disk cache over its limit: the models in use do not fit", {
        bytes: this.lru.totalBytes,
        max_bytes: this.maxBytes,
      });
    }
  }
}
