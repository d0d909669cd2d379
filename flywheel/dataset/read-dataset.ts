import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import type { RawImage } from "../../regional-gpu/pipelines/pipeline.ts";
import { DatasetManifest, LikedOutput, PreferencePair, type ImageRef } from "./format.ts";

// Reads a curated dataset folder back, checking every file against the manifest's sha256.

export interface Dataset {
  dir: string;
  manifest: DatasetManifest;
  pairs: PreferencePair[];
  likes: LikedOutput[];
}

export class DatasetError extends Error {
  readonly code = "invalid_dataset";
  constructor(message: string) {
    super(message);
    this.name = "DatasetError";
  }
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

const jsonLines = <T>(text: string, parse: (v: unknown) => T): T[] =>
  text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => parse(JSON.parse(l)));

export async function readDataset(dir: string): Promise<Dataset> {
  let manifest: DatasetManifest;
  try {
    manifest = DatasetManifest.parse(
      JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")),
    );
  } catch (error) {
    throw new DatasetError(`${dir}/manifest.json: ${(error as Error).message}`);
  }
  for (const file of manifest.files) {
    const bytes = await readFile(join(dir, file.path)).catch(() => null);
    if (!bytes) throw new DatasetError(`${file.path} is missing`);
    if (sha256(bytes) !== file.sha256)
      throw new DatasetError(`${file.path} does not match its sha256`);
  }
  const pairs = jsonLines(await readFile(join(dir, "pairs.jsonl"), "utf8"), (v) =>
    PreferencePair.parse(v),
  );
  const likes = jsonLines(await readFile(join(dir, "likes.jsonl"), "utf8"), (v) =>
    LikedOutput.parse(v),
  );
  return { dir, manifest, pairs, likes };
}

/** The pixels of an image the dataset exported (a URL is fetched). */
export async function loadImage(dataset: Dataset, ref: ImageRef): Promise<RawImage> {
  let bytes: Uint8Array;
  if (/^https?:\/\//.test(ref.image)) {
    const res = await fetch(ref.image);
    if (!res.ok) throw new DatasetError(`${ref.image}: HTTP ${res.status}`);
    bytes = new Uint8Array(await res.arrayBuffer());
  } else {
    bytes = await readFile(join(dataset.dir, ref.image));
  }
  const { data, info } = await sharp(bytes)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) };
}
