// Characters that read as a Latin letter but are not one (homoglyphs), folded to that letter after
// NFKC and lower-casing. A curated subset of Unicode's confusables.txt: the Cyrillic, Greek,
// Armenian, Cherokee, IPA and small-capital letters used to dodge word filters, plus the ligatures
// and enclosed letters NFKC leaves alone. Kept small on purpose: it ships in the Worker bundle.

// prettier-ignore
const PAIRS: Record<string, string> = {
  // Cyrillic
  а: "a", б: "b", в: "b", г: "r", д: "d", е: "e", ё: "e", з: "e", к: "k", м: "m", н: "h", о: "o",
  п: "n", р: "p", с: "c", т: "t", у: "y", х: "x", ш: "w", щ: "w", ъ: "b", ь: "b", я: "r", і: "i",
  ї: "i", ј: "j", ѕ: "s", ԁ: "d", ԛ: "q", ԝ: "w", һ: "h", ӏ: "l", ү: "y", ұ: "y", ҫ: "c", ҝ: "k",
  ӄ: "k", ө: "o", ѳ: "o", ѵ: "v", ѡ: "w", ԍ: "g", ԑ: "e", ԋ: "h",
  // Greek
  α: "a", β: "b", γ: "y", δ: "d", ε: "e", ζ: "z", η: "n", θ: "o", ι: "i", κ: "k", μ: "u", ν: "v",
  ο: "o", π: "n", ρ: "p", σ: "o", ς: "s", τ: "t", υ: "u", χ: "x", ω: "w", ϲ: "c", ϳ: "j", ϱ: "p",
  ϵ: "e",
  // Armenian
  ց: "g", հ: "h", ո: "n", ս: "u", օ: "o", զ: "q",
  // IPA, Latin extended and small capitals
  ɑ: "a", ɓ: "b", ɔ: "c", ɖ: "d", ɗ: "d", ə: "e", ɛ: "e", ɡ: "g", ɢ: "g", ɦ: "h", ɪ: "i", ɩ: "i",
  ɫ: "l", ɭ: "l", ʟ: "l", ɱ: "m", ɴ: "n", ɲ: "n", ɵ: "o", ʀ: "r", ʁ: "r", ɾ: "r", ʂ: "s", ʃ: "s",
  ʈ: "t", ʉ: "u", ʊ: "u", ʋ: "v", ʌ: "v", ʍ: "w", ʏ: "y", ʐ: "z", ʑ: "z", ᴀ: "a", ʙ: "b", ᴄ: "c",
  ᴅ: "d", ᴇ: "e", ꜰ: "f", ʜ: "h", ᴊ: "j", ᴋ: "k", ᴍ: "m", ᴏ: "o", ᴘ: "p", ᴛ: "t", ᴜ: "u", ᴠ: "v",
  ᴡ: "w", ᴢ: "z", ı: "i", ȷ: "j", ß: "ss", æ: "ae", œ: "oe", ø: "o", đ: "d", ł: "l", ð: "d",
  þ: "th", ŋ: "n", ħ: "h", ƚ: "l", ƶ: "z", ȥ: "z",
  // Symbols read as letters
  "¢": "c", "©": "c", "®": "r", "¥": "y", "×": "x", "€": "e",
  // Cherokee capitals (lower-cased below as well)
  Ꭺ: "a", Ᏼ: "b", Ꮯ: "c", Ꭼ: "e", Ꮐ: "g", Ꮋ: "h", Ꭵ: "i", Ꮶ: "k", Ꮮ: "l", Ꮇ: "m", Ꮲ: "p",
  Ꮪ: "s", Ꭲ: "t", Ꮩ: "v", Ꮃ: "w", Ꮓ: "z",
};

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
// Enclosed and regional-indicator letters NFKC does not decompose: 🅐, 🅰, 🇦.
const ENCLOSED_FIRST = [0x1f150, 0x1f170, 0x1f1e6];

function buildTable(): Map<string, string> {
  const table = new Map<string, string>();
  for (const [from, to] of Object.entries(PAIRS)) {
    table.set(from, to);
    table.set(from.toLowerCase(), to);
  }
  for (const first of ENCLOSED_FIRST) {
    for (let i = 0; i < 26; i++) table.set(String.fromCodePoint(first + i), LETTERS[i]!);
  }
  return table;
}

let table: Map<string, string> | undefined;

/** The Latin letter(s) `char` (one code point, lower-cased) stands for, or undefined. */
export function latinLookalike(char: string): string | undefined {
  table ??= buildTable();
  return table.get(char);
}
