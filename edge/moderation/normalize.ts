import { latinLookalike } from "./confusables.ts";

/**
 * A prompt folded for matching, with a way back: `text` is lower-case Latin wherever the original
 * only looked like it, and every UTF-16 unit of `text` knows the span of the original it came from.
 */
export interface FoldedText {
  text: string;
  /** Per unit of `text`: start (inclusive) and end (exclusive) of its source in the original. */
  starts: number[];
  ends: number[];
  /** Ranges of `text` made by closing up spaced-out characters ("n u d e" -> "nude"). */
  joined: { start: number; end: number }[];
}

// Invisible in rendering, so free to insert inside a word: format characters (zero-width space,
// joiners, soft hyphen, bidi controls), combining marks, and the blank letters of Hangul and Braille.
const INVISIBLE = /^(?:\p{Cf}|\p{M}|[\u115f\u1160\u3164\uffa0\u2800])$/u;
const MARKS = /\p{M}/gu;

/** One code point of the original -> what it reads as: NFKC, lower case, no accents, no homoglyphs. */
function foldCodePoint(cp: string): string {
  if (INVISIBLE.test(cp)) return "";
  let out = "";
  for (const ch of cp.normalize("NFKC").toLowerCase().normalize("NFD").replace(MARKS, "")) {
    out += latinLookalike(ch) ?? ch;
  }
  return out;
}

// A spaced-out run is at least this many one-character tokens ("s e x"), separated by at most
// MAX_GAP characters of spacing or punctuation on one line.
const MIN_RUN = 3;
const MAX_GAP = 3;
const TOKEN_CHAR = /[\p{L}\p{N}@$!|]/u;
const GAP_CHAR = /[ \t.\-_*·•,/\\~'"`:;+]/u;
const ASCII_TOKEN = /^[a-z0-9@$!|]$/;

function isToken(ch: string): boolean {
  return ch.charCodeAt(0) < 128 ? ASCII_TOKEN.test(ch) : TOKEN_CHAR.test(ch);
}

/** Folds `original` for matching (see FoldedText). Linear in its length. */
export function foldText(original: string): FoldedText {
  const chars: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < original.length;) {
    const code = original.charCodeAt(i);
    // Printable ASCII (nearly every prompt) folds to itself, lower-cased.
    if (code >= 0x20 && code < 0x7f) {
      chars.push(code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : original[i]!);
      starts.push(i);
      ends.push(i + 1);
      i += 1;
      continue;
    }
    const cp = String.fromCodePoint(original.codePointAt(i)!);
    const end = i + cp.length;
    const folded = foldCodePoint(cp);
    for (let k = 0; k < folded.length; k++) {
      chars.push(folded[k]!);
      starts.push(i);
      ends.push(end);
    }
    i = end;
  }
  return closeUpSpacedRuns(chars, starts, ends);
}

/** Drops the gaps inside runs of spaced-out single characters, recording where the runs are. */
function closeUpSpacedRuns(chars: string[], starts: number[], ends: number[]): FoldedText {
  // Tokens: maximal runs of TOKEN_CHAR units.
  const tokens: { start: number; end: number }[] = [];
  for (let k = 0; k < chars.length;) {
    if (!isToken(chars[k]!)) {
      k++;
      continue;
    }
    const start = k;
    while (k < chars.length && isToken(chars[k]!)) k++;
    tokens.push({ start, end: k });
  }
  const drop = new Uint8Array(chars.length);
  const runs: { first: number; last: number }[] = [];
  let t = 0;
  while (t < tokens.length) {
    let u = t;
    while (
      u + 1 < tokens.length &&
      isSingle(tokens[u]!) &&
      isSingle(tokens[u + 1]!) &&
      isGap(chars, tokens[u]!.end, tokens[u + 1]!.start)
    ) {
      u++;
    }
    if (u - t + 1 >= MIN_RUN) {
      runs.push({ first: tokens[t]!.start, last: tokens[u]!.end });
      for (let k = t; k < u; k++) {
        for (let g = tokens[k]!.end; g < tokens[k + 1]!.start; g++) drop[g] = 1;
      }
    }
    t = u + 1;
  }
  const out: FoldedText = { text: "", starts: [], ends: [], joined: [] };
  const newIndex = new Int32Array(chars.length + 1);
  let text = "";
  for (let k = 0; k < chars.length; k++) {
    newIndex[k] = out.starts.length;
    if (drop[k]) continue;
    text += chars[k]!;
    out.starts.push(starts[k]!);
    out.ends.push(ends[k]!);
  }
  newIndex[chars.length] = out.starts.length;
  out.text = text;
  out.joined = runs.map((r) => ({ start: newIndex[r.first]!, end: newIndex[r.last]! }));
  return out;
}

function isSingle(token: { start: number; end: number }): boolean {
  return token.end - token.start === 1;
}

function isGap(chars: string[], from: number, to: number): boolean {
  if (to - from < 1 || to - from > MAX_GAP) return false;
  for (let k = from; k < to; k++) if (!GAP_CHAR.test(chars[k]!)) return false;
  return true;
}

/** The span of the original that `text[start, end)` came from. */
export function originalSpan(folded: FoldedText, start: number, end: number) {
  return { start: folded.starts[start]!, end: folded.ends[end - 1]! };
}
