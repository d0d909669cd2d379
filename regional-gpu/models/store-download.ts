import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { digestMismatch, type ExpectedFile } from "./file-digest.ts";
import {
  ModelChecksumError,
  ModelFileMissingError,
  ModelStoreUnreachableError,
} from "./model-errors.ts";
import { describeNetworkError, type RemoteModelStore } from "./remote-model-store.ts";

// Reads from the cold tier with a stall guard: a request that makes no progress for `stallMs`
// (no answer, or no bytes) is aborted and reported as an unreachable store, never a hang. A model
// file is streamed to a temporary sibling, hashed on the way, and renamed into place only when it
// matches the manifest, so the disk tier never holds a partial or wrong file under a real name.

const MAX_TEXT_BYTES = 1024 * 1024;

/** An AbortController that fires when `arm` has not been called for `ms`. */
function stallGuard(ms: number) {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), ms);
  };
  arm();
  return { signal: controller.signal, arm, stop: () => clearTimeout(timer) };
}

function stalled(store: RemoteModelStore, key: string, ms: number, cause: unknown) {
  return new ModelStoreUnreachableError(
    store.description,
    `no progress for ${ms} ms reading ${key}`,
    cause,
  );
}

/** A small object (a manifest) as text, or null when the store has none. */
export async function fetchText(
  store: RemoteModelStore,
  key: string,
  stallMs: number,
): Promise<string | null> {
  const guard = stallGuard(stallMs);
  try {
    const object = await store.open(key, guard.signal);
    if (!object) return null;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of object.body as AsyncIterable<Buffer>) {
      guard.arm();
      size += chunk.byteLength;
      if (size > MAX_TEXT_BYTES) {
        object.body.destroy();
        throw new ModelStoreUnreachableError(store.description, `${key} exceeds 1 MiB`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  } catch (err) {
    if (guard.signal.aborted) throw stalled(store, key, stallMs, err);
    if (err instanceof ModelStoreUnreachableError) throw err;
    throw new ModelStoreUnreachableError(
      store.description,
      `reading ${key}: ${describeNetworkError(err)}`,
      err,
    );
  } finally {
    guard.stop();
  }
}

/** Streams `key` to `path` (temp file + rename), verified against `expected`. */
export async function downloadVerified(opts: {
  store: RemoteModelStore;
  key: string;
  path: string;
  expected: ExpectedFile;
  stallMs: number;
}): Promise<{ bytes: number }> {
  const { store, key, path, expected, stallMs } = opts;
  const temporary = `${path}.${randomBytes(6).toString("hex")}.partial`;
  const guard = stallGuard(stallMs);
  let writeFailed = false;
  try {
    const object = await store.open(key, guard.signal);
    if (!object) throw new ModelFileMissingError(store.description, key);
    const hash = createHash("sha256");
    let bytes = 0;
    const sink = createWriteStream(temporary);
    sink.once("error", () => (writeFailed = true));
    await pipeline(
      object.body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          guard.arm();
          hash.update(chunk);
          bytes += chunk.byteLength;
          yield chunk;
        }
      },
      sink,
      { signal: guard.signal },
    );
    const problem = digestMismatch({ sha256: hash.digest("hex"), bytes }, expected);
    if (problem) throw new ModelChecksumError(`${store.description}${key}`, problem);
    await rename(temporary, path);
    return { bytes };
  } catch (err) {
    await rm(temporary, { force: true });
    if (guard.signal.aborted) throw stalled(store, key, stallMs, err);
    // A full or read-only disk is this node's problem, not the store's.
    if (writeFailed) throw err;
    if (
      err instanceof ModelChecksumError ||
      err instanceof ModelFileMissingError ||
      err instanceof ModelStoreUnreachableError
    ) {
      throw err;
    }
    throw new ModelStoreUnreachableError(
      store.description,
      `reading ${key}: ${describeNetworkError(err)}`,
      err,
    );
  } finally {
    guard.stop();
  }
}
