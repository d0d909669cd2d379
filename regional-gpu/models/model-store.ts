import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ModelManifest } from "../../contracts/model-manifest.ts";
import { verifyFile } from "./file-digest.ts";
import {
  filesOf,
  isModelRef,
  type MaterializedModel,
  type ModelRepository,
} from "./model-repository.ts";

// The local folder store (MODEL_DIR, the embedded default): <root>/<name>/<version>/manifest.json and
// the files it names, read in place and checked against their sha256 on every load. Remote stores
// sit behind a disk cache instead (tiered-model-repository.ts).

export interface ModelLocation {
  manifest: ModelManifest;
  /** Folder the manifest's relative file paths resolve against. */
  dir: string;
}

export class InvalidManifestError extends Error {
  readonly code = "invalid_model_manifest";
  constructor(path: string, detail: string) {
    super(`model manifest ${path}: ${detail}`);
    this.name = "InvalidManifestError";
  }
}

/** A manifest read from `source`, which must describe name@version; else InvalidManifestError. */
export function parseManifest(
  text: string,
  source: string,
  name: string,
  version: string,
): ModelManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidManifestError(source, "not JSON");
  }
  const parsed = ModelManifest.safeParse(json);
  if (!parsed.success) throw new InvalidManifestError(source, parsed.error.message);
  if (parsed.data.name !== name || parsed.data.version !== version) {
    throw new InvalidManifestError(source, `describes ${parsed.data.name}@${parsed.data.version}`);
  }
  return parsed.data;
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

export class LocalModelStore implements ModelRepository {
  readonly rootDir: string;
  readonly description: string;

  constructor(rootDir: string) {
    this.rootDir = rootDir;
    this.description = pathToFileURL(rootDir).href;
  }

  async manifest(name: string, version: string): Promise<ModelManifest | null> {
    return (await this.find(name, version))?.manifest ?? null;
  }

  async materialize(manifest: ModelManifest): Promise<MaterializedModel> {
    const dir = join(this.rootDir, manifest.name, manifest.version);
    for (const expected of filesOf(manifest)) await verifyFile(join(dir, expected.file), expected);
    return { manifest, dir, tier: "disk", release: () => {} };
  }

  async list(): Promise<string[]> {
    const refs: string[] = [];
    for (const name of await subdirs(this.rootDir)) {
      for (const version of await subdirs(join(this.rootDir, name))) {
        if (isModelRef(name, version) && (await this.find(name, version)))
          refs.push(`${name}@${version}`);
      }
    }
    return refs;
  }

  async find(name: string, version: string): Promise<ModelLocation | null> {
    // Checked before touching the disk: these strings come from requests.
    if (!isModelRef(name, version)) return null;
    const dir = join(this.rootDir, name, version);
    const path = join(dir, "manifest.json");
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    return { manifest: parseManifest(text, path, name, version), dir };
  }
}
