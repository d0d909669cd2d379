import {
  DataSet,
  englishDataset,
  SyntaxKind,
  type EnglishProfaneWord,
  type LiteralNode,
  type Node,
  type ParsedPattern,
  type WildcardNode,
} from "obscenity";
import type { Level, PromptCategory } from "./categories.ts";
import {
  BETWEEN_WORDS,
  escapeLiteral,
  IN_WORD,
  letterFirst,
  letterSource,
  PhraseIndex,
  type Pattern,
  type PatternPart,
} from "./phrase-index.ts";

// Profanity and slurs: the maintained word list, patterns and whitelist of the `obscenity`
// library's English data set, matched by our own PhraseIndex over our folded text, so they get the
// same normalisation as the category lists. (obscenity's RegExpMatcher took ~1 ms per 120
// characters, too slow for every request.) Each word gets a category and level here; the Record
// type makes an upgrade that adds a word fail to compile until it is classified.

interface WordClass {
  level: Level;
  categories: readonly PromptCategory[];
}

const profanity = (level: Level): WordClass => ({ level, categories: ["profanity"] });
const sexual = (level: Level): WordClass => ({ level, categories: ["sexual"] });
const hate = (level: Level): WordClass => ({ level, categories: ["hate"] });

const CLASSES: Record<EnglishProfaneWord, WordClass | null> = {
  abeed: hate(3),
  abo: hate(2),
  africoon: hate(3),
  anal: sexual(2),
  anus: sexual(2),
  arabush: hate(3),
  arse: profanity(1),
  ass: profanity(1),
  bastard: profanity(1),
  bestiality: sexual(3),
  bitch: profanity(1),
  blowjob: sexual(3),
  bollocks: profanity(1),
  boob: sexual(2),
  boonga: hate(3),
  buttplug: sexual(3),
  chingchong: hate(3),
  chink: hate(2),
  cock: sexual(2),
  cuck: profanity(1),
  cum: sexual(3),
  cunt: profanity(2),
  deepthroat: sexual(3),
  dick: sexual(2),
  dildo: sexual(3),
  doggystyle: sexual(3),
  "double penetration": sexual(3),
  dyke: hate(2),
  ejaculate: sexual(3),
  fag: hate(2),
  felch: sexual(3),
  fellatio: sexual(3),
  "finger bang": sexual(3),
  fisting: sexual(3),
  fuck: profanity(1),
  gangbang: sexual(3),
  handjob: sexual(3),
  hentai: sexual(2),
  hooker: sexual(2),
  incest: sexual(3),
  "jerk off": sexual(3),
  jizz: sexual(3),
  kike: hate(3),
  lubejob: sexual(3),
  masturbate: sexual(3),
  negro: hate(2),
  nigger: hate(3),
  orgasm: sexual(3),
  orgy: sexual(3),
  penis: sexual(2),
  piss: profanity(1),
  porn: sexual(3),
  prick: profanity(1),
  pussy: sexual(2),
  rape: { level: 3, categories: ["sexual", "violence"] },
  retard: hate(2),
  scat: sexual(2),
  semen: sexual(3),
  // The lexicon tells "sex" (2) from "sexy" (1) and "sex pistols" (allowed).
  sex: null,
  shit: profanity(1),
  slut: sexual(2),
  spastic: hate(2),
  tit: sexual(2),
  tranny: hate(2),
  turd: profanity(1),
  twat: profanity(1),
  vagina: sexual(2),
  wank: sexual(2),
  whore: sexual(2),
};

// Everyday words and names containing a listed word, beyond the library's own whitelist.
const EXTRA_WHITELIST = [
  "cockpit",
  "cockatoo",
  "cockerel",
  "woodcock",
  "shuttlecock",
  "hancock",
  "rapeseed",
  "grapes",
  "drapes",
  "pissarro",
  "fagus",
  "van dyke",
  "van dyck",
  "chink of light",
  "chink in the armor",
  "chink in the armour",
  "georgy",
  "booby",
  "retardant",
  "scat singing",
  "scat singer",
  "shiitake",
  "shitake",
  "dicky bow",
  "moby dick",
  "philip k dick",
  "dickens",
  "penistone",
  "cumin",
  "cum laude",
  "cumulus",
  "cucumber",
  "assortment",
  "pussy willow",
  "pussycat",
  "niggard",
  "great tit",
  "blue tit",
  "coal tit",
  "titmouse",
  "hooker's green",
  "hookers green",
  "hooker green",
  // Fixed expressions and names of several words, where the listed word stands alone (single
  // words come from the generated allow list, allowed-words.ts).
  "cock of the rock",
  "cock-of-the-rock",
  "cock and bull",
  "cock-and-bull",
  "cock a doodle",
  "cock-a-doodle",
  "cock robin",
  "cock pheasant",
  "cock sparrow",
  "half cock",
  "tit for tat",
  "tit-for-tat",
  "spotted dick",
  "dick van dyke",
  "dick turpin",
  "dick whittington",
  "dick tracy",
  "tricky dick",
  "analog",
  "analogue",
  "canal",
  "bass",
  "class",
  "glass",
  "brass",
  "grass",
  "mass",
  "pass",
  "assemble",
  "scunthorpe",
];

export interface ProfanityHit {
  word: EnglishProfaneWord;
  level: Level;
  categories: readonly PromptCategory[];
  /** Offsets into the scanned text; end exclusive. */
  start: number;
  end: number;
}

function literalParts(node: LiteralNode): PatternPart[] {
  const parts: PatternPart[] = [];
  let previousLetter = false;
  for (const code of node.chars) {
    const c = String.fromCodePoint(code).toLowerCase();
    if (c === " ") {
      parts.push({ source: BETWEEN_WORDS, first: null, optional: false });
      previousLetter = false;
    } else {
      const sep = previousLetter ? IN_WORD : "";
      parts.push({
        source: sep + letterSource(c),
        first: sep ? null : letterFirst(c),
        optional: false,
      });
      previousLetter = true;
    }
  }
  return parts;
}

// obscenity matches `?` against text whose repeated letters it has collapsed: one character, or
// a run of one letter ("fuuuck" for "f?ck").
const WILDCARD: PatternPart = {
  source: `(?:${[..."abcdefghijklmnopqrstuvwxyz"].map((c) => `${c}+`).join("|")}|[^\\s])`,
  first: null,
  optional: false,
};

function nodeParts(node: Node): PatternPart[] {
  switch (node.kind) {
    case SyntaxKind.Literal:
      return literalParts(node);
    case SyntaxKind.Wildcard:
      return [WILDCARD];
    case SyntaxKind.Optional: {
      const inner =
        node.childNode.kind === SyntaxKind.Literal ? literalParts(node.childNode) : [WILDCARD];
      const source = inner.map((p) => p.source).join("");
      return [{ source, first: inner[0]?.first ?? null, optional: true }];
    }
    default:
      return [];
  }
}

/** An obscenity pattern as a PhraseIndex pattern. */
export function fromObscenityPattern(pattern: ParsedPattern): Pattern {
  return {
    parts: pattern.nodes.flatMap(nodeParts),
    boundedStart: pattern.requireWordBoundaryAtStart,
    boundedEnd: pattern.requireWordBoundaryAtEnd,
  };
}

interface Compiled {
  index: PhraseIndex;
  words: EnglishProfaneWord[];
  whitelist: PhraseIndex;
}

let compiled: Compiled | undefined;

function compile(): Compiled {
  const dataset = new DataSet<{ originalWord: EnglishProfaneWord }>().addAll(englishDataset);
  const { blacklistedTerms, whitelistedTerms } = dataset.build();
  const patterns: Pattern[] = [];
  const words: EnglishProfaneWord[] = [];
  for (const term of blacklistedTerms) {
    const probe = { termId: term.id, startIndex: 0, endIndex: 0, matchLength: 0 };
    const word = dataset.getPayloadWithPhraseMetadata(probe).phraseMetadata?.originalWord;
    if (word === undefined || CLASSES[word] === null) continue;
    patterns.push(fromObscenityPattern(term.pattern));
    words.push(word);
  }
  const allowed = [...(whitelistedTerms ?? []), ...EXTRA_WHITELIST].map((term): Pattern => ({
    parts: [
      {
        source: escapeLiteral(term.toLowerCase()),
        first: [term[0]!.toLowerCase()],
        optional: false,
      },
    ],
    boundedStart: false,
    boundedEnd: false,
  }));
  return { index: new PhraseIndex(patterns), words, whitelist: new PhraseIndex(allowed) };
}

/** Profanity and slurs in `text` (already folded: see normalize.ts). */
export function findProfanity(
  text: string,
  joined: readonly { start: number; end: number }[] = [],
): ProfanityHit[] {
  compiled ??= compile();
  const { index, words, whitelist } = compiled;
  const hits = index.scan(text);
  for (const run of joined) hits.push(...index.scan(text, run.start, run.end, true));
  if (hits.length === 0) return [];
  const allowed = whitelist.scan(text);
  const out: ProfanityHit[] = [];
  for (const hit of hits) {
    if (allowed.some((a) => a.start <= hit.start && hit.end <= a.end)) continue;
    const word = words[hit.pattern]!;
    out.push({ word, ...CLASSES[word]!, start: hit.start, end: hit.end });
  }
  return out;
}
