// Stated ages under 18 ("12 year old", "14yo", "aged 9", "fifteen-year-old"): minors context.

const NUMBER_WORDS =
  "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen";
const UNDER_18 = `(?:1[0-7]|[1-9]|${NUMBER_WORDS})`;
const SEP = "[\\s\\-_.]*";

const AGE_PATTERNS = [
  // 12 year old, 12-year-old, 12 yrs old, 12yo, 12 y.o., twelve years old
  `(?<![\\p{L}\\p{N}])${UNDER_18}${SEP}(?:years?|yrs?|y)${SEP}(?:old|o)(?!\\p{L})`,
  // aged 12, age 12, age: 12
  `(?<!\\p{L})aged?${SEP}:?${SEP}${UNDER_18}(?![\\p{L}\\p{N}])`,
  // under 18, under eighteen
  `(?<!\\p{L})under${SEP}(?:18|eighteen)(?![\\p{N}])`,
];

const AGES = new RegExp(AGE_PATTERNS.join("|"), "gu");

/** Spans of `text` (folded) that state an age under 18. */
export function findMinorAges(text: string): { start: number; end: number }[] {
  return [...text.matchAll(AGES)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}
