import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { ModelChecksumError } from "./model-errors.ts";

// sha256 checks of model files on disk: every file is verified against its manifest on each use.

export interface FileDigest {
  sha256: string;
  bytes: number;
}

export interface ExpectedFile {
  /** Path relative to the model folder, as the manifest names it. */
  file: string;
  sha256: string;
  /** Absent where the manifest records no size (the tokenizer). */
  bytes?: number;
}

export async function fileDigest(path: string): Promise<FileDigest> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** Null when the digest matches; otherwise why not. */
export function digestMismatch(digest: FileDigest, expected: ExpectedFile): string | null {
  if (
    digest.sha256 === expected.sha256 &&
    (expected.bytes === undefined || digest.bytes === expected.bytes)
  ) {
    return null;
  }
  const size = expected.bytes === undefined ? "" : ` (${expected.bytes} bytes)`;
  return `sha256 ${digest.sha256} (${digest.bytes} bytes) does not match the manifest's ${expected.sha256}${size}`;
}

/** Throws ModelChecksumError unless the file at `path` is the one the manifest names. */
export async function verifyFile(path: string, expected: ExpectedFile): Promise<void> {
  const problem = digestMismatch(await fileDigest(path), expected);
  if (problem) throw new ModelChecksumError(path, problem);
}
