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

/** `s` as a literal in a `u`-mode regular expression (outside a character class). */
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
  /** Regular-expression source (`u` mode) without capturing groups. */
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

/** The patterns that can start with one character, as one sticky alternation per variant. */
interface Bucket {
  /** Pattern index of capture group g + 1. */
  anywhere: Alternation | null;
  atWordStart: Alternation | null;
}

interface Alternation {
  order: number[];
  /** With the patterns' end edges, and without (inside closed-up spaced runs). */
  strict: RegExp;
  loose: RegExp;
}

const LETTER = /\p{L}/u;
function isLetter(ch: string | undefined): boolean {
  if (ch === undefined) return false;
  const code = ch.charCodeAt(0);
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
  return LETTER.test(ch);
}

function sourceOf(p: Pattern): string {
  return p.parts.map((part) => (part.optional ? `(?:${part.source})?` : part.source)).join("");
}

function alternation(patterns: readonly Pattern[], members: number[]): Alternation | null {
  if (members.length === 0) return null;
  // Longer patterns first, so a phrase wins over the words inside it.
  const order = [...members].sort((a, b) => sourceOf(patterns[b]!).length - sourceOf(patterns[a]!).length);
  const group = (i: number, edges: boolean) =>
    `(${sourceOf(patterns[i]!)}${edges && patterns[i]!.boundedEnd ? "(?!\\p{L})" : ""})`;
  return {
    order,
    strict: new RegExp(order.map((i) => group(i, true)).join("|"), "uy"),
    loose: new RegExp(order.map((i) => group(i, false)).join("|"), "uy"),
  };
}

export class PhraseIndex {
  readonly #byFirst = new Map<string, Bucket>();
  readonly #anyFirst: Bucket;

  constructor(patterns: readonly Pattern[]) {
    const members = new Map<string | null, { anywhere: number[]; atWordStart: number[] }>();
    const add = (key: string | null, i: number) => {
      let m = members.get(key);
      if (!m) members.set(key, (m = { anywhere: [], atWordStart: [] }));
      // A word start may begin any pattern; elsewhere only those without a start edge.
      m.atWordStart.push(i);
      if (!patterns[i]!.boundedStart) m.anywhere.push(i);
    };
    patterns.forEach((p, i) => {
      const first = firstChars(p.parts);
      if (first === null) add(null, i);
      else for (const c of first) add(c, i);
    });
    const bucket = (m: { anywhere: number[]; atWordStart: number[] } | undefined): Bucket => ({
      anywhere: alternation(patterns, m?.anywhere ?? []),
      atWordStart: alternation(patterns, m?.atWordStart ?? []),
    });
    for (const [key, m] of members) if (key !== null) this.#byFirst.set(key, bucket(m));
    this.#anyFirst = bucket(members.get(null));
  }

  /**
   * Matches starting in `text[from, to)` and ending by `to`: at each position, the longest-listed
   * pattern that matches there. `ignoreEdges`: word edges are waived (closed-up spaced runs).
   */
  scan(text: string, from = 0, to = text.length, ignoreEdges = false): PhraseHit[] {
    const hits: PhraseHit[] = [];
    for (let pos = from; pos < to; pos++) {
      const bucket = this.#byFirst.get(text[pos]!);
      if (!bucket && !this.#anyFirst.atWordStart) continue;
      const atWordStart = ignoreEdges || !isLetter(text[pos - 1]);
      if (bucket) this.#try(bucket, atWordStart, ignoreEdges, text, pos, to, hits);
      this.#try(this.#anyFirst, atWordStart, ignoreEdges, text, pos, to, hits);
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
    const alt = atWordStart ? bucket.atWordStart : bucket.anywhere;
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
