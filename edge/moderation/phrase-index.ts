// Matching many patterns over folded text (normalize.ts) fast: each pattern is a sticky regex,
// tried only where its first character occurs (and, for patterns that need one, at a word start).
// One alternation of all patterns was ~40 ms per short prompt in V8; this is a few microseconds.

/** Leetspeak each letter may be written in (besides itself). */
export const LEET: Readonly<Record<string, string>> = {
  a: "4@",
  b: "8",
  e: "3",
  g: "9",
  i: "1!|",
  l: "1|",
  o: "0",
  s: "5$",
  t: "7+",
  z: "2",
};
/** Between letters of a word: one punctuation mark at most ("nu.de"). */
export const IN_WORD = "[-_.'’*]?";
/** Between words: any spacing and punctuation, or none ("blow-job", "blowjob"). */
export const BETWEEN_WORDS = "[\\s\\-_.,'’*/+]*";

/** `s` as a literal in a regular expression (outside a character class). */
export const escapeLiteral = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
const escapeInClass = (s: string) => s.replace(/[\\\]^-]/g, "\\$&");

/** One letter, repeatable ("nuuude"), in any of its leetspeak forms. */
export function letterSource(c: string): string {
  const extra = LEET[c];
  return extra ? `[${c}${escapeInClass(extra)}]+` : `${escapeLiteral(c)}+`;
}

/** The characters a match of `c` can start with. */
export function letterFirst(c: string): string[] {
  return [c, ...(LEET[c] ?? "")];
}

export interface PatternPart {
  /** Regular-expression source (no `u` flag) without capturing groups. */
  source: string;
  /** Characters a match of this part starts with; null: any. */
  first: readonly string[] | null;
  optional: boolean;
}

export interface Pattern {
  parts: readonly PatternPart[];
  /** Must start / end at a word edge (no letter before / after). */
  boundedStart: boolean;
  boundedEnd: boolean;
}

export interface PhraseHit {
  /** Index of the pattern in the list the index was built from. */
  pattern: number;
  start: number;
  end: number;
}

/** The patterns that can start with one character; compiled on first use. */
interface Bucket {
  /** Pattern indexes: those without a start edge (tried anywhere), and all (at a word start). */
  anywhere: number[];
  atWordStart: number[];
  compiled?: { anywhere: Alternation | null; atWordStart: Alternation | null };
}

interface Alternation {
  /** Pattern index of capture group g + 1. */
  order: number[];
  /** With the patterns' end edges, and without (inside closed-up spaced runs). */
  strict: RegExp;
  loose: RegExp;
}

// Folded text is lower-case Latin wherever it imitated Latin, so a word edge is the edge of a run
// of a-z: other scripts count as edges (Chinese and Japanese put no spaces between words). Plain
// character classes (no `u` flag, no \p{L}) keep the many alternations cheap to compile.
const NOT_LETTER_AFTER = "(?![a-z])";
export const RUN_ON = "[a-z]*";

function isLetter(ch: string | undefined): boolean {
  if (ch === undefined) return false;
  const code = ch.charCodeAt(0);
  return code >= 97 && code <= 122;
}

function alternation(
  sources: readonly string[],
  patterns: readonly Pattern[],
  members: number[],
): Alternation | null {
  if (members.length === 0) return null;
  // Longer patterns first, so a phrase wins over the words inside it.
  const order = [...members].sort((a, b) => sources[b]!.length - sources[a]!.length);
  const group = (i: number, edges: boolean) =>
    `(${sources[i]}${edges && patterns[i]!.boundedEnd ? NOT_LETTER_AFTER : ""})`;
  return {
    order,
    strict: new RegExp(order.map((i) => group(i, true)).join("|"), "y"),
    loose: new RegExp(order.map((i) => group(i, false)).join("|"), "y"),
  };
}

export class PhraseIndex {
  readonly #patterns: readonly Pattern[];
  readonly #sources: string[];
  readonly #byFirst = new Map<string, Bucket>();
  readonly #anyFirst: Bucket;

  constructor(patterns: readonly Pattern[]) {
    this.#patterns = patterns;
    this.#sources = patterns.map((p) =>
      p.parts.map((part) => (part.optional ? `(?:${part.source})?` : part.source)).join(""),
    );
    const byChar = new Map<string | null, number[]>();
    patterns.forEach((p, i) => {
      const first = firstChars(p.parts);
      for (const c of first ?? [null]) {
        let list = byChar.get(c);
        if (!list) byChar.set(c, (list = []));
        list.push(i);
      }
    });
    // Characters with the same patterns (a letter and its leetspeak forms) share one bucket.
    const shared = new Map<string, Bucket>();
    const bucketOf = (members: number[]): Bucket => {
      const key = members.join(",");
      let bucket = shared.get(key);
      if (!bucket) {
        bucket = {
          anywhere: members.filter((i) => !patterns[i]!.boundedStart),
          atWordStart: members,
        };
        shared.set(key, bucket);
      }
      return bucket;
    };
    for (const [c, members] of byChar) if (c !== null) this.#byFirst.set(c, bucketOf(members));
    this.#anyFirst = bucketOf(byChar.get(null) ?? []);
  }

  /**
   * Matches starting in `text[from, to)` and ending by `to`: at each position, the longest-listed
   * pattern that matches there. `ignoreEdges`: word edges are waived (closed-up spaced runs).
   */
  scan(text: string, from = 0, to = text.length, ignoreEdges = false): PhraseHit[] {
    const hits: PhraseHit[] = [];
    const anyFirst = this.#anyFirst.atWordStart.length > 0;
    for (let pos = from; pos < to; pos++) {
      const bucket = this.#byFirst.get(text[pos]!);
      if (!bucket && !anyFirst) continue;
      const atWordStart = ignoreEdges || !isLetter(text[pos - 1]);
      if (bucket) this.#try(bucket, atWordStart, ignoreEdges, text, pos, to, hits);
      if (anyFirst) this.#try(this.#anyFirst, atWordStart, ignoreEdges, text, pos, to, hits);
    }
    return hits;
  }

  #try(
    bucket: Bucket,
    atWordStart: boolean,
    ignoreEdges: boolean,
    text: string,
    pos: number,
    to: number,
    hits: PhraseHit[],
  ): void {
    bucket.compiled ??= {
      anywhere: alternation(this.#sources, this.#patterns, bucket.anywhere),
      atWordStart: alternation(this.#sources, this.#patterns, bucket.atWordStart),
    };
    const alt = atWordStart ? bucket.compiled.atWordStart : bucket.compiled.anywhere;
    if (!alt) return;
    const re = ignoreEdges ? alt.loose : alt.strict;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m || pos + m[0].length > to) return;
    let g = 1;
    while (m[g] === undefined) g++;
    hits.push({ pattern: alt.order[g - 1]!, start: pos, end: pos + m[0].length });
  }
}

function firstChars(parts: readonly PatternPart[]): Set<string> | null {
  const out = new Set<string>();
  for (const part of parts) {
    if (part.first === null) return null;
    for (const c of part.first) out.add(c);
    if (!part.optional) return out;
  }
  return null;
}
