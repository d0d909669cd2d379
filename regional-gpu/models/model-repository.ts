import type { ModelManifest } from "../../contracts/model-manifest.ts";
import type { ExpectedFile } from "./file-digest.ts";

// What the hot tier loads from: a repository answers manifests and puts a model version's files,
// verified, in a local folder. The local folder store (MODEL_DIR, the embedded default) reads them in
// place; the tiered repository keeps a disk cache in front of a remote store (S3 or HTTPS).

/** Where a load found the model: already in memory, in a local folder, or fetched from the store. */
export type LoadTier = "hot" | "disk" | "store";

export interface MaterializedModel {
  manifest: ModelManifest;
  /** Folder the manifest's files resolve against; every file in it was verified just now. */
  dir: string;
  /** "disk": every file was on local disk already; "store": at least one was fetched. */
  tier: Exclude<LoadTier, "hot">;
  /** The files may be evicted from disk again (the session holds its own copy by now). */
  release(): void;
}

export interface DiskTierStats {
  dir: string;
  /** Model versions in the cache. */
  entries: number;
  bytes: number;
  maxBytes: number;
}

export interface ModelRepository {
  /** For logs: "file:///srv/models", "s3://bucket/prefix", "https://host/prefix". */
  readonly description: string;
  /** name@version of every model it can enumerate; a remote store enumerates none. */
  list(): Promise<string[]>;
  /** The manifest, or null when there is no such version. May throw ModelStoreUnreachableError. */
  manifest(name: string, version: string): Promise<ModelManifest | null>;
  /** Every file the manifest names, checked against its sha256, in a local folder. */
  materialize(manifest: ModelManifest): Promise<MaterializedModel>;
  /** The disk tier's figures, where there is a disk cache. */
  diskStats?(): DiskTierStats;
  /** Releases connections to a remote store. */
  close?(): Promise<void>;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const VERSION = /^[A-Za-z0-9._-]{1,64}$/;

/** Whether name and version are safe to turn into paths and keys (they come from requests). */
export function isModelRef(name: string, version: string): boolean {
  return NAME.test(name) && VERSION.test(version) && version !== "." && version !== "..";
}

export const modelRef = (name: string, version: string) => `${name}@${version}`;

/** name@version -> [name, version], or null when malformed. */
export function parseModelRef(ref: string): [string, string] | null {
  const at = ref.lastIndexOf("@");
  const [name, version] = [ref.slice(0, at), ref.slice(at + 1)];
  return at > 0 && isModelRef(name, version) ? [name, version] : null;
}

/** Every file a manifest names, with what it must hash to; the main graph first. */
export function filesOf(manifest: ModelManifest): ExpectedFile[] {
  const files: ExpectedFile[] = [
    { file: manifest.file, sha256: manifest.sha256, bytes: manifest.bytes },
    ...(manifest.stages ?? []).map((s) => ({ file: s.file, sha256: s.sha256, bytes: s.bytes })),
    { file: manifest.tokenizer.file, sha256: manifest.tokenizer.sha256 },
  ];
  const seen = new Set<string>();
  return files.filter((f) => !seen.has(f.file) && seen.add(f.file));
}

/** Bytes the manifest declares for its graphs: a floor for what a loaded session holds. */
export function declaredGraphBytes(manifest: ModelManifest): number {
  const stages = (manifest.stages ?? []).filter((s) => s.file !== manifest.file);
  return manifest.bytes + stages.reduce((sum, s) => sum + s.bytes, 0);
}
