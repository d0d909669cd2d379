import { findMinorAges } from "./ages.ts";
import { ALLOWED_WORDS } from "./allowed-words.ts";
import { BLOCK_LEVEL, PromptCategory, type Level, type Strictness } from "./categories.ts";
import { ALLOWED_PHRASES, LEXICON } from "./lexicon.ts";
import { foldText, originalSpan, type FoldedText } from "./normalize.ts";
import { findProfanity } from "./profanity.ts";
import { PhraseIndex } from "./phrase-index.ts";
import { phrasePattern, wholeWord } from "./term-pattern.ts";

/** One thing prompt moderation found, with its span in the original prompt. */
export interface PromptMatch {
  category: PromptCategory;
  /** The listed phrase or word that matched. */
  term: string;
  /** Severity after context (violence next to minors counts as 3). */
  level: Level;
  /** UTF-16 offsets into the original prompt; `end` exclusive. */
  start: number;
  end: number;
  /** The original text of the span. */
  text: string;
}

export interface PromptVerdict {
  /** flag: something matched below the project's threshold (allowed, but recorded). */
  action: "allow" | "flag" | "block";
  strictness: Strictness;
  /** Categories behind the action (empty for allow). */
  categories: PromptCategory[];
  /** The matches behind the action, in prompt order. */
  matches: PromptMatch[];
  /** Everything that matched, including context and matches below the threshold. */
  found: PromptMatch[];
}

interface Indexes {
  lexicon: PhraseIndex;
  allowed: PhraseIndex;
  words: PhraseIndex;
}

// Compiled on first use, not at module load: Worker isolates that never see a POST pay nothing.
let indexes: Indexes | undefined;
function compiled(): Indexes {
  return (indexes ??= {
    lexicon: new PhraseIndex(LEXICON.map((e) => phrasePattern(e.phrase))),
    allowed: new PhraseIndex(ALLOWED_PHRASES.map((p) => phrasePattern(p))),
    words: new PhraseIndex(ALLOWED_WORDS.map(wholeWord)),
  });
}

// What separates tokens for the letter rule below (leetspeak symbols such as ! | $ @ do not).
const TOKEN_EDGE = /[\s,.;:?()[\]{}"'\/_-]/;

/**
 * Leetspeak reads digits and symbols as letters, which must not turn a token without letters
 * ("1011", "455") into a word: a match counts only inside a token that has a letter ("455hole").
 */
function inTokenWithLetters(text: string, start: number, end: number): boolean {
  let from = start;
  let to = end;
  while (from > 0 && !TOKEN_EDGE.test(text[from - 1]!)) from--;
  while (to < text.length && !TOKEN_EDGE.test(text[to]!)) to++;
  return /[a-z]/.test(text.slice(from, to));
}

export interface FindTermsOptions {
  /** Whether the generated allow list (allowed-words.ts) applies; off only to regenerate it. */
  allowedWords?: boolean;
}

const CATEGORY_ORDER = new Map(PromptCategory.options.map((c, i) => [c, i]));

/**
 * Moderates a prompt under a project's strictness. Blocks a category at or above the strictness's
 * level (categories.ts); minors next to anything sexual is blocked under every strictness.
 */
export function moderatePrompt(prompt: string, strictness: Strictness): PromptVerdict {
  const found = findTerms(prompt);
  const minors = found.some((m) => m.category === "minors");
  if (minors) {
    // Graphic violence involving children is blocked under every strictness.
    for (const m of found) if (m.category === "violence" && m.level >= 2) m.level = 3;
  }
  const threshold = BLOCK_LEVEL[strictness];
  const blocking = found.filter((m) => m.category !== "minors" && m.level >= threshold);
  const sexual = found.filter((m) => m.category === "sexual" && m.level >= 1);
  if (minors && sexual.length > 0) {
    blocking.push(...found.filter((m) => m.category === "minors"), ...sexual);
  } else if (blocking.some((m) => m.category === "sexual" || m.category === "violence")) {
    // A block names the minors context that came with it (it raised violence to 3).
    blocking.push(...found.filter((m) => m.category === "minors"));
  }
  if (blocking.length > 0) return verdict("block", strictness, blocking, found);
  const flagged = found.filter((m) => m.category !== "minors" && m.level >= 1);
  if (flagged.length > 0) return verdict("flag", strictness, flagged, found);
  return { action: "allow", strictness, categories: [], matches: [], found };
}

function verdict(
  action: PromptVerdict["action"],
  strictness: Strictness,
  matches: PromptMatch[],
  found: PromptMatch[],
): PromptVerdict {
  const unique = dedupe(matches);
  const categories = [...new Set(unique.map((m) => m.category))].sort(
    (a, b) => CATEGORY_ORDER.get(a)! - CATEGORY_ORDER.get(b)!,
  );
  return { action, strictness, categories, matches: unique, found };
}

/** Every listed term, minors context and stated age in `prompt`, before any decision. */
export function findTerms(prompt: string, opts: FindTermsOptions = {}): PromptMatch[] {
  return dedupe(findAll(foldText(prompt), prompt, opts.allowedWords ?? true));
}

function findAll(folded: FoldedText, prompt: string, allowedWords: boolean): PromptMatch[] {
  const { lexicon, allowed, words } = compiled();
  const text = folded.text;
  const allowedSpans = allowed.scan(text);
  if (allowedWords) allowedSpans.push(...words.scan(text));
  const isAllowed = (start: number, end: number) =>
    allowedSpans.some((a) => a.start <= start && end <= a.end);
  const out: PromptMatch[] = [];
  const add = (
    categories: readonly PromptCategory[],
    term: string,
    level: Level,
    start: number,
    end: number,
  ) => {
    const span = originalSpan(folded, start, end);
    for (const category of categories) {
      out.push({ category, term, level, ...span, text: prompt.slice(span.start, span.end) });
    }
  };

  const lexiconHits = lexicon.scan(text);
  // Inside closed-up spaced runs ("a n u d e") word edges are gone: match anywhere in the run.
  for (const run of folded.joined)
    lexiconHits.push(...lexicon.scan(text, run.start, run.end, true));
  for (const hit of lexiconHits) {
    if (isAllowed(hit.start, hit.end) || !inTokenWithLetters(text, hit.start, hit.end)) continue;
    const entry = LEXICON[hit.pattern]!;
    add(entry.categories, entry.phrase, entry.level, hit.start, hit.end);
  }
  for (const hit of findProfanity(text, folded.joined)) {
    if (isAllowed(hit.start, hit.end) || !inTokenWithLetters(text, hit.start, hit.end)) continue;
    add(hit.categories, hit.word, hit.level, hit.start, hit.end);
  }
  for (const age of findMinorAges(text))
    add(["minors"], "stated age under 18", 0, age.start, age.end);
  return out;
}

/**
 * One match per category and span: the lexicon and the profanity list may both find a word, and
 * a phrase ("sex scene") contains shorter ones ("sex"). A match inside another of its category
 * that is at least as severe is dropped.
 */
function dedupe(matches: PromptMatch[]): PromptMatch[] {
  const sorted = [...matches].sort(
    (a, b) => a.start - b.start || b.end - a.end || b.level - a.level,
  );
  return sorted.filter(
    (m, i) =>
      !sorted.some(
        (o, j) =>
          j !== i &&
          o.category === m.category &&
          o.start <= m.start &&
          m.end <= o.end &&
          o.level >= m.level &&
          (o.start !== m.start || o.end !== m.end || j < i),
      ),
  );
}
