import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isVocabularyWord, UNKNOWN_TOKEN, type Vocabulary } from "./tokenize.ts";

/** A "word-vocab" vocabulary: word on line n (1-based) has token id n. */
export class WordVocabulary implements Vocabulary {
  private readonly ids: Map<string, number>;

  constructor(words: readonly string[]) {
    this.ids = new Map();
    words.forEach((word, index) => {
      if (!isVocabularyWord(word)) throw new Error(`vocabulary line ${index + 1}: invalid word`);
      if (this.ids.has(word)) throw new Error(`vocabulary line ${index + 1}: duplicate "${word}"`);
      this.ids.set(word, index + 1);
    });
  }

  get size(): number {
    return this.ids.size;
  }

  id(word: string): number {
    return this.ids.get(word) ?? UNKNOWN_TOKEN;
  }
}

export function serializeVocabulary(words: readonly string[]): string {
  return words.map((w) => `${w}\n`).join("");
}

/** Loads a vocab file; with `expectedSha256` a file that does not match is refused. */
export async function loadVocabulary(path: string, expectedSha256?: string): Promise<Vocabulary> {
  const bytes = await readFile(path);
  if (expectedSha256 !== undefined) {
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== expectedSha256) {
      throw new Error(`vocabulary ${path}: sha256 ${actual} does not match ${expectedSha256}`);
    }
  }
  const text = bytes.toString("utf8");
  if (text.length > 0 && !text.endsWith("\n")) throw new Error(`vocabulary ${path}: truncated`);
  return new WordVocabulary(text.length === 0 ? [] : text.slice(0, -1).split("\n"));
}
