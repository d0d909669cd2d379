import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import {
  assertValidKey,
  normaliseMetadata,
  resolveRange,
  type ByteRange,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type StoredBody,
} from "./object-store.ts";

// Objects on local disk, the embedded default. Layout under rootDir:
//   meta/<key>.json     the sidecar: size, etag, content type, metadata and the blob holding the bytes
//   blobs/<id>          immutable bytes, written once under a fresh id
//   tmp/                same-filesystem staging for atomic renames
// Renaming the sidecar into place is the one commit point of a put, and a blob never changes once
// written, so a reader that opened the blob named by a sidecar always gets bytes matching it. A put
// stages and flushes the blob and the sidecar side by side (one fsync's wait, not two in a row),
// then renames the blob into place before the sidecar.

const Sidecar = z.object({
  blob: z.string().regex(/^[0-9a-f-]{36}$/),
  size: z.number().int().min(0),
  etag: z.string(),
  contentType: z.string(),
  metadata: z.record(z.string(), z.string()),
});
type Sidecar = z.infer<typeof Sidecar>;

const isMissing = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
};

/** S3's ETag of a single-part upload: the quoted MD5 of the bytes. */
export const md5Etag = (bytes: Uint8Array) => `"${createHash("md5").update(bytes).digest("hex")}"`;

const infoOf = (key: string, { blob: _, ...rest }: Sidecar): ObjectInfo => ({ key, ...rest });

export class FsObjectStore implements ObjectStore {
  readonly rootDir: string;
  /** Serialises writers of one key in this process, so a replaced blob is always cleaned up. */
  private readonly writing = new Map<string, Promise<unknown>>();
  /** Folders known to exist, so a put does not ask the file system again each time. */
  private readonly folders = new Set<string>();

  constructor(rootDir: string) {
    this.rootDir = rootDir;
  }

  async put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<ObjectInfo> {
    assertValidKey(key);
    return this.exclusive(key, async () => {
      const sidecar: Sidecar = {
        blob: randomUUID(),
        size: bytes.byteLength,
        etag: md5Etag(bytes),
        contentType: opts.contentType,
        metadata: normaliseMetadata(opts.metadata),
      };
      const previous = await this.readSidecar(key);
      const staged = await Promise.allSettled([
        this.stage(bytes),
        this.stage(JSON.stringify(sidecar)),
      ]);
      const [blobTmp, metaTmp] = staged.map((s) => (s.status === "fulfilled" ? s.value : null));
      const blob = this.blobPath(sidecar.blob);
      try {
        for (const s of staged) if (s.status === "rejected") throw s.reason;
        await this.place(blobTmp!, blob);
        await this.place(metaTmp!, this.metaPath(key));
      } catch (err) {
        await Promise.all([blobTmp, metaTmp, blob].map((f) => f && rm(f, { force: true })));
        throw err;
      }
      if (previous) await rm(this.blobPath(previous.blob), { force: true });
      return infoOf(key, sidecar);
    });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    const sidecar = await this.readSidecar(key);
    return sidecar && infoOf(key, sidecar);
  }

  async get(key: string, opts: { range?: ByteRange } = {}): Promise<StoredBody | null> {
    assertValidKey(key);
    // A blob may be removed by an overwrite between reading its sidecar and opening it: read the
    // (new) sidecar again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const sidecar = await this.readSidecar(key);
      if (!sidecar) return null;
      const range = opts.range ? resolveRange(key, opts.range, sidecar.size) : undefined;
      const body = await this.readBlob(sidecar, range);
      if (body) return { ...infoOf(key, sidecar), body, ...(range && { range }) };
    }
    throw new Error(`object ${key} kept changing while being read`);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    return this.exclusive(key, async () => {
      const sidecar = await this.readSidecar(key);
      if (!sidecar) return;
      await rm(this.metaPath(key), { force: true });
      await rm(this.blobPath(sidecar.blob), { force: true });
    });
  }

  private metaPath = (key: string) => join(this.rootDir, "meta", `${key}.json`);
  private blobPath = (id: string) => join(this.rootDir, "blobs", id.slice(0, 2), id);

  private async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.writing.get(key) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.catch(() => undefined);
    this.writing.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.writing.get(key) === settled) this.writing.delete(key);
    }
  }

  /** Writes `data` to a fresh file under tmp/ and flushes it to disk; answers its path. */
  private async stage(data: Uint8Array | string): Promise<string> {
    const tmp = join(this.rootDir, "tmp", randomUUID());
    try {
      await this.inFolder(tmp, () => writeFile(tmp, data, { flush: true }));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return tmp;
  }

  private place(tmp: string, path: string): Promise<void> {
    return this.inFolder(path, () => rename(tmp, path));
  }

  /** Runs `write` of `path`, creating its folder first unless known, and again if it vanished. */
  private async inFolder(path: string, write: () => Promise<void>): Promise<void> {
    const folder = dirname(path);
    if (!this.folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      this.folders.add(folder);
    }
    try {
      await write();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      this.folders.delete(folder);
      await mkdir(folder, { recursive: true });
      this.folders.add(folder);
      await write();
    }
  }

  private async readSidecar(key: string): Promise<Sidecar | null> {
    try {
      return Sidecar.parse(JSON.parse(await readFile(this.metaPath(key), "utf8")));
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /** The blob's bytes (or the asked range of them); null when the blob is already gone. */
  private async readBlob(
    sidecar: Sidecar,
    range?: { offset: number; length: number },
  ): Promise<Uint8Array | null> {
    let file;
    try {
      file = await open(this.blobPath(sidecar.blob), "r");
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      const { offset, length } = range ?? { offset: 0, length: sidecar.size };
      const body = new Uint8Array(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await file.read(body, read, length - read, offset + read);
        if (bytesRead === 0) throw new Error(`blob ${sidecar.blob} is shorter than its sidecar`);
        read += bytesRead;
      }
      return body;
    } finally {
      await file.close();
    }
  }
}
