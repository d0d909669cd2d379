import { describe, expect, it } from "vitest";
import { contentHashOf, normalizePrompt, type DedupInput } from "./content-hash.ts";

const base: DedupInput = {
  accountId: "acct_1",
  model: "cppn-glove",
  modelVersion: "2026-11-27.1",
  prompt: "a quiet harbour",
  negativePrompt: null,
  seed: 42,
  width: 512,
  height: 512,
  style: null,
  moderation: undefined,
};

describe("normalizePrompt", () => {
  it.each([
    ["  A  Quiet\tHarbour\n", "a quiet harbour"],
    ["ａ ｑｕｉｅｔ harbour", "a quiet harbour"], // full-width letters (NFKC)
    ["a qui\u200bet\u200d harbour", "a quiet harbour"], // zero-width characters
    ["ﬁsh ﬂoat", "fish float"], // ligatures
    ["Café", "café"],
  ])("%j -> %j", (input, expected) => {
    expect(normalizePrompt(input)).toBe(expected);
  });

  it("keeps what the model reads as different words apart", () => {
    expect(normalizePrompt("sea-side")).not.toBe(normalizePrompt("sea side"));
  });
});

describe("contentHashOf", () => {
  it("is the same for prompts equal once normalised, and absent vs empty negative prompts", async () => {
    const a = await contentHashOf(base);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(
      await contentHashOf({ ...base, prompt: " A QUIET   harbour ", negativePrompt: "" }),
    ).toBe(a);
  });

  it.each<[string, Partial<DedupInput>]>([
    ["account", { accountId: "acct_2" }],
    ["model version", { modelVersion: "2026-12-01.1" }],
    ["prompt", { prompt: "a loud harbour" }],
    ["negative prompt", { negativePrompt: "boats" }],
    ["seed", { seed: 43 }],
    ["width", { width: 576 }],
    ["height", { height: 576 }],
    ["style", { style: { reference: `gen_${"a".repeat(26)}`, strength: 0.5 } }],
    ["moderation policy", { moderation: { strictness: "strict" } }],
  ])("changes with the %s", async (_, change) => {
    expect(await contentHashOf({ ...base, ...change })).not.toBe(await contentHashOf(base));
  });

  it("treats no project policy as the region's default policy", async () => {
    expect(await contentHashOf({ ...base, moderation: { strictness: "standard" } })).toBe(
      await contentHashOf(base),
    );
  });
});
