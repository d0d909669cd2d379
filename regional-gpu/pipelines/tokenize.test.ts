import { describe, expect, it } from "vitest";
import {
  isVocabularyWord,
  normalizeText,
  splitWords,
  tokenize,
  UNKNOWN_TOKEN,
} from "./tokenize.ts";
import { WordVocabulary } from "./vocabulary.ts";

const vocab = new WordVocabulary(["red", "sunset", "sea", "sci-fi", "city", "café", "x2"]);

describe("tokenize", () => {
  it("maps words to 1-based ids and unknown words to 0", () => {
    expect(tokenize("Red sunset over the SEA", vocab, 64)).toEqual([1, 2, 0, 0, 3]);
  });

  it("normalizes NFKC, case and zero-width characters before lookup", () => {
    expect(normalizeText("ＲＥＤ")).toBe("red");
    expect(tokenize("re\u200bd s\u00adunset", vocab, 64)).toEqual([1, 2]);
    expect(tokenize("CAFE\u0301", vocab, 64)).toEqual([6]);
  });

  it("keeps known hyphenated words and splits unknown ones", () => {
    expect(tokenize("sci-fi city", vocab, 64)).toEqual([4, 5]);
    expect(tokenize("red-sea", vocab, 64)).toEqual([1, 3]);
  });

  it("splits on punctuation and drops it", () => {
    expect(splitWords("red, sunset... (sea)!")).toEqual(["red", "sunset", "sea"]);
    expect(tokenize("", vocab, 64)).toEqual([]);
    expect(tokenize("!!! ...", vocab, 64)).toEqual([]);
  });

  it("stops at max tokens", () => {
    expect(tokenize("red sunset sea city", vocab, 3)).toEqual([1, 2, 3]);
    expect(tokenize("red sci-fantasy sea", vocab, 2)).toEqual([1, UNKNOWN_TOKEN]);
  });

  it("defines which strings can be vocabulary words", () => {
    for (const word of ["red", "sci-fi", "x2", "café"]) expect(isVocabularyWord(word)).toBe(true);
    for (const word of ["Red", "1990", "a b", "-x", "x-", ",", ""]) {
      expect(isVocabularyWord(word)).toBe(false);
    }
  });
});
