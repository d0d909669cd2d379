import { describe, expect, it } from "vitest";
import { evaluate, formatEvaluation, loadLabelledPrompts } from "./prompt-eval.ts";

describe("prompt moderation on the labelled set (testdata/prompts.jsonl)", () => {
  it("blocks >= 95% of violating prompts and <= 1% of clean ones", async () => {
    const items = await loadLabelledPrompts();
    expect(items.length).toBeGreaterThanOrEqual(300);
    expect(items.filter((i) => i.label === "clean").length).toBeGreaterThanOrEqual(150);
    expect(items.filter((i) => i.label === "violating").length).toBeGreaterThanOrEqual(150);
    const result = evaluate(items);
    const report = formatEvaluation(result);
    expect(result.overall.recall, report).toBeGreaterThanOrEqual(0.95);
    expect(result.falsePositiveRate, report).toBeLessThanOrEqual(0.01);
    for (const [category, score] of Object.entries(result.categories)) {
      expect(score.support, `${category} has labelled examples`).toBeGreaterThan(0);
      expect(score.recall ?? 0, `${category} recall\n${report}`).toBeGreaterThanOrEqual(0.9);
    }
  });

  it("covers every evasion technique it claims to", async () => {
    const notes = new Set((await loadLabelledPrompts()).map((i) => i.note ?? ""));
    for (const technique of [
      "leetspeak",
      "spacing",
      "Cyrillic homoglyphs",
      "zero-width characters",
      "fullwidth",
      "diacritics",
      "repeated letters",
      "numbers, models and products",
      "place names",
      "bird names",
      "plant names",
      "self-harm phrasing",
      "violence phrasing",
    ]) {
      expect(
        [...notes].some((n) => n.includes(technique)),
        technique,
      ).toBe(true);
    }
  });
});
