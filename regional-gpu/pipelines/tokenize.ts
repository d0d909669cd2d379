// Prompt -> token ids for "word-vocab" tokenizers. The model build uses the same word rules to cut its
// vocabulary, so every vocabulary word is reachable from some prompt.

/** A word is letters, marks and digits, optionally joined by single hyphens ("sci-fi"). */
const WORD = /[\p{L}\p{M}\p{N}]+(?:-[\p{L}\p{M}\p{N}]+)*/gu;
const WHOLE_WORD = /^(?=.*\p{L})[\p{L}\p{M}\p{N}]+(?:-[\p{L}\p{M}\p{N}]+)*$/u;
// Zero-width and other format characters are dropped so they cannot split or disguise a word.
const FORMAT_CHARS = /\p{Cf}/gu;

export const UNKNOWN_TOKEN = 0;

export interface Vocabulary {
  /** Number of words; token ids run from 1 to size. */
  readonly size: number;
  /** Token id of a normalized word, or UNKNOWN_TOKEN. */
  id(word: string): number;
}

export function normalizeText(text: string): string {
  return text.normalize("NFKC").replace(FORMAT_CHARS, "").toLowerCase();
}

export function splitWords(text: string): string[] {
  return normalizeText(text).match(WORD) ?? [];
}

/** Whether `word` can be a vocabulary entry: already normalized, one word, at least one letter. */
export function isVocabularyWord(word: string): boolean {
  return WHOLE_WORD.test(word) && normalizeText(word) === word;
}

/**
 * Token ids of `text`, at most `maxTokens`. Unknown words give UNKNOWN_TOKEN (the model masks it like
 * padding); an unknown hyphenated compound falls back to its parts.
 */
export function tokenize(text: string, vocabulary: Vocabulary, maxTokens: number): number[] {
  const ids: number[] = [];
  for (const word of splitWords(text)) {
    const id = vocabulary.id(word);
    if (id !== UNKNOWN_TOKEN || !word.includes("-")) ids.push(id);
    else for (const part of word.split("-")) ids.push(vocabulary.id(part));
    if (ids.length >= maxTokens) break;
  }
  return ids.slice(0, maxTokens);
}
