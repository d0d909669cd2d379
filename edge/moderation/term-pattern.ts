import {
  BETWEEN_WORDS,
  escapeLiteral,
  IN_WORD,
  letterFirst,
  letterSource,
  RUN_ON,
  type Pattern,
  type PatternPart,
} from "./phrase-index.ts";

// The lexicon's phrase syntax (lexicon.ts), compiled to patterns for PhraseIndex.
//
// Words are separated by spaces; `(a|b)` is a word with alternatives; `[w]` an optional word;
// `w*` a word that may run on ("decapitat*"); `w!` a word taken exactly (no plural). The last word
// otherwise takes an optional plural `s`/`es`. Letters may repeat, be leetspeak, or be split by
// one punctuation mark; words may be joined or split by spacing and punctuation.

const PLURAL = "(?:e?s)?";

function word(w: string, last: boolean): { source: string; first: string[] } {
  const runsOn = w.endsWith("*");
  const exact = w.endsWith("!");
  const letters = runsOn || exact ? w.slice(0, -1) : w;
  if (!/^[a-z0-9]+$/.test(letters)) throw new Error(`bad word in lexicon phrase: ${w}`);
  let source = [...letters].map(letterSource).join(IN_WORD);
  if (runsOn) source += RUN_ON;
  else if (last && !exact) source += PLURAL;
  return { source, first: letterFirst(letters[0]!) };
}

/** Compiles one lexicon phrase; `bounded`: it must start and end at word edges. */
export function phrasePattern(phrase: string, bounded = true): Pattern {
  const tokens = phrase.trim().split(/\s+/);
  const parts: PatternPart[] = tokens.map((token, i) => {
    const optional = token.startsWith("[") && token.endsWith("]");
    const inner = optional ? token.slice(1, -1) : token;
    const alternatives =
      inner.startsWith("(") && inner.endsWith(")") ? inner.slice(1, -1).split("|") : [inner];
    const words = alternatives.map((w) => word(w, i === tokens.length - 1));
    const body =
      words.length > 1 ? `(?:${words.map((w) => w.source).join("|")})` : words[0]!.source;
    // The separator belongs to the word, so an optional word takes its separator with it.
    const first = words.flatMap((w) => w.first);
    return i === 0
      ? { source: body, first, optional }
      : { source: `${BETWEEN_WORDS}${body}`, first: null, optional };
  });
  return { parts, boundedStart: bounded, boundedEnd: bounded };
}

/** One word exactly as written (folded), at word edges: an entry of the generated allow list. */
export function wholeWord(word: string): Pattern {
  return {
    parts: [{ source: escapeLiteral(word), first: [word[0]!], optional: false }],
    boundedStart: true,
    boundedEnd: true,
  };
}
