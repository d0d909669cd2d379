import { readFile } from "node:fs/promises";
import { z } from "zod";
import { PromptCategory, Strictness } from "./categories.ts";
import { moderatePrompt } from "./moderate-prompt.ts";

// Scores prompt moderation against the labelled prompts in testdata/prompts.jsonl:
// `npm run moderation:eval` prints the table; moderation-eval.test.ts holds the thresholds.

export const LabelledPrompt = z.strictObject({
  prompt: z.string().min(1),
  negative_prompt: z.string().optional(),
  strictness: Strictness.default("standard"),
  label: z.enum(["clean", "violating"]),
  /** The categories a block should name (empty for clean prompts). */
  categories: z.array(PromptCategory),
  note: z.string().optional(),
});
export type LabelledPrompt = z.infer<typeof LabelledPrompt>;

export const DATASET_URL = new URL("./testdata/prompts.jsonl", import.meta.url);

export async function loadLabelledPrompts(url: URL = DATASET_URL): Promise<LabelledPrompt[]> {
  const text = await readFile(url, "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      const parsed = LabelledPrompt.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`prompts.jsonl line ${i + 1}: ${parsed.error.message}`);
      return parsed.data;
    });
}

export interface Score {
  /** Of the items predicted positive, the share that are. Null when nothing was predicted. */
  precision: number | null;
  /** Of the positive items, the share predicted. Null when there are none. */
  recall: number | null;
  support: number;
}

export interface Evaluation {
  total: number;
  clean: number;
  violating: number;
  /** Blocking as the prediction, violating as the truth. */
  overall: Score;
  /** Share of clean prompts that were blocked. */
  falsePositiveRate: number;
  /** Per category: the category named in a block, against the labelled categories. */
  categories: Record<PromptCategory, Score>;
  /** Items the prediction got wrong (blocked clean, passed violating, or other categories). */
  mistakes: { item: LabelledPrompt; blocked: boolean; categories: PromptCategory[] }[];
}

const ratio = (num: number, den: number) => (den === 0 ? null : num / den);

export function evaluate(items: readonly LabelledPrompt[]): Evaluation {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const perCategory = new Map(PromptCategory.options.map((c) => [c, { tp: 0, fp: 0, fn: 0 }]));
  const mistakes: Evaluation["mistakes"] = [];
  for (const item of items) {
    // Only the prompt is moderated: a negative prompt names what the image must not show.
    const verdict = moderatePrompt(item.prompt, item.strictness);
    const blocked = verdict.action === "block";
    const violating = item.label === "violating";
    if (blocked && violating) tp++;
    else if (blocked) fp++;
    else if (violating) fn++;
    const predicted = new Set(blocked ? verdict.categories : []);
    const expected = new Set(item.categories);
    for (const [category, counts] of perCategory) {
      if (predicted.has(category) && expected.has(category)) counts.tp++;
      else if (predicted.has(category)) counts.fp++;
      else if (expected.has(category)) counts.fn++;
    }
    const sameCategories =
      predicted.size === expected.size && [...predicted].every((c) => expected.has(c));
    if (blocked !== violating || !sameCategories) {
      mistakes.push({ item, blocked, categories: [...predicted] });
    }
  }
  const clean = items.filter((i) => i.label === "clean").length;
  return {
    total: items.length,
    clean,
    violating: items.length - clean,
    overall: { precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), support: tp + fn },
    falsePositiveRate: clean === 0 ? 0 : fp / clean,
    categories: Object.fromEntries(
      [...perCategory].map(([c, k]) => [
        c,
        {
          precision: ratio(k.tp, k.tp + k.fp),
          recall: ratio(k.tp, k.tp + k.fn),
          support: k.tp + k.fn,
        },
      ]),
    ) as Record<PromptCategory, Score>,
    mistakes,
  };
}

const pct = (x: number | null) => (x === null ? "   -  " : `${(x * 100).toFixed(1).padStart(5)}%`);

export function formatEvaluation(e: Evaluation): string {
  const lines = [
    `${e.total} labelled prompts: ${e.violating} violating, ${e.clean} clean`,
    "",
    "category       precision  recall  support",
    ...Object.entries(e.categories).map(
      ([c, s]) =>
        `${c.padEnd(14)} ${pct(s.precision)}    ${pct(s.recall)}  ${String(s.support).padStart(7)}`,
    ),
    `${"overall".padEnd(14)} ${pct(e.overall.precision)}    ${pct(e.overall.recall)}  ${String(e.overall.support).padStart(7)}`,
    "",
    `false positives on clean prompts: ${pct(e.falsePositiveRate)} (${Math.round(e.falsePositiveRate * e.clean)} of ${e.clean})`,
  ];
  if (e.mistakes.length > 0) {
    lines.push("", "mistakes:");
    for (const m of e.mistakes) {
      const want = m.item.label === "clean" ? "allow" : `block [${m.item.categories.join(", ")}]`;
      const got = m.blocked ? `block [${m.categories.join(", ")}]` : "allow";
      lines.push(
        `  (${m.item.strictness}) want ${want}, got ${got}: ${JSON.stringify(m.item.prompt)}`,
      );
    }
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  console.log(formatEvaluation(evaluate(await loadLabelledPrompts())));
}

if (import.meta.main) await main();
