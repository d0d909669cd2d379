import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelManifest } from "../../contracts/model-manifest.ts";

// Where model versions come from. The local store reads <root>/<name>/<version>/manifest.json; an
// object-store-backed store (download, checksum, cache on disk) implements the same interface.

export interface ModelLocation {
  manifest: ModelManifest;
  /** Folder the manifest's relative file paths resolve against. */
  dir: string;
}

export interface ModelStore {
  /** Every available model as name@version. */
  list(): Promise<string[]>;
  find(name: string, version: string): Promise<ModelLocation | null>;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const VERSION = /^[A-Za-z0-9._-]{1,64}$/;

export class InvalidManifestError extends Error {
  readonly code = "invalid_model_manifest";
  constructor(path: string, detail: string) {
    super(`model manifest ${path}: ${detail}`);
    this.name = "InvalidManifestError";
  }
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code === "ENOENT";

async function subdirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

export class LocalModelStore implements ModelStore {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = rootDir;
  }

  async list(): Promise<string[]> {
    const refs: string[] = [];
    for (const name of (await subdirs(this.rootDir)).filter((n) => NAME.test(n))) {
      for (const version of await subdirs(join(this.rootDir, name))) {
        if (VERSION.test(version) && (await this.find(name, version)))
          refs.push(`${name}@${version}`);
      }
    }
    return refs;
  }

  async find(name: string, version: string): Promise<ModelLocation | null> {
    // Checked before touching the disk: these strings come from requests.
    if (!NAME.test(name) || !VERSION.test(version) || version === "." || version === "..") {
      return null;
    }
    const dir = join(this.rootDir, name, version);
    const path = join(dir, "manifest.json");
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new InvalidManifestError(path, "not JSON");
    }
    const parsed = ModelManifest.safeParse(json);
    if (!parsed.success) throw new InvalidManifestError(path, parsed.error.message);
    if (parsed.data.name !== name || parsed.data.version !== version) {
      throw new InvalidManifestError(path, `describes ${parsed.data.name}@${parsed.data.version}`);
    }
    return { manifest: parsed.data, dir };
  }
}
