import { describe, expect, it } from "vitest";
import { moderatePrompt } from "./moderate-prompt.ts";

describe("moderatePrompt", () => {
  it("allows ordinary art prompts and names nothing", () => {
    const v = moderatePrompt("a quiet harbour at dawn, teal and amber", "strict");
    expect(v).toMatchObject({ action: "allow", categories: [], matches: [] });
  });

  it("reports the category and the span of the original prompt that matched", () => {
    const prompt = "portrait, 𝓷𝓪𝓴𝓮𝓭, soft light";
    const v = moderatePrompt(prompt, "standard");
    expect(v.action).toBe("block");
    expect(v.categories).toEqual(["sexual"]);
    const [m] = v.matches;
    expect(m).toMatchObject({ category: "sexual", text: "𝓷𝓪𝓴𝓮𝓭" });
    expect(prompt.slice(m!.start, m!.end)).toBe("𝓷𝓪𝓴𝓮𝓭");
  });

  it("reads leetspeak only in tokens that have letters (issue 15's false alarms)", () => {
    for (const prompt of ["apartment 1011 at dusk", "a number 455 bus", "room 8008 at 5:55"]) {
      const v = moderatePrompt(prompt, "strict");
      expect(v.found, prompt).toEqual([]);
      expect(v.action, prompt).toBe("allow");
    }
    // Digits inside a word still read as letters.
    expect(moderatePrompt("l0l1 art", "standard").categories).toContain("minors");
    expect(moderatePrompt("b00bs out", "standard").action).toBe("block");
    expect(moderatePrompt("a 455hole", "strict").action).toBe("block");
  });

  it("allows real words and names that contain a listed term (generated allow list)", () => {
    for (const prompt of [
      "a dickcissel bird on a fence",
      "a boobook owl at night",
      "a cockscomb flower in a clay pot",
      "a portrait of Emily Dickinson",
    ]) {
      expect(moderatePrompt(prompt, "standard").action, prompt).toBe("allow");
    }
    // The words themselves, and compounds of them, still count.
    expect(moderatePrompt("a dick pic", "standard").action).toBe("block");
    expect(moderatePrompt("a pornstar on a bed", "standard").action).toBe("block");
  });

  it("blocks self-harm and violence phrased without a listed word", () => {
    for (const [prompt, category] of [
      ["person hanging themselves from a tree", "self_harm"],
      ["a man with a gun to his own head", "self_harm"],
      ["a woman about to end her life", "self_harm"],
      ["a mob beating a man to death", "violence"],
      ["a soldier executing a blindfolded prisoner", "violence"],
    ] as const) {
      const v = moderatePrompt(prompt, "standard");
      expect(v.action, prompt).toBe("block");
      expect(v.categories, prompt).toContain(category);
    }
    for (const prompt of [
      "a man hanging a picture on the wall",
      "a girl teaching herself to play the guitar",
      "lanterns hanging from a tree",
      "a cat cleaning itself",
    ]) {
      expect(moderatePrompt(prompt, "standard").action, prompt).toBe("allow");
    }
  });

  it("follows the project's strictness", () => {
    const prompt = "a nude figure study in charcoal";
    expect(moderatePrompt(prompt, "relaxed").action).toBe("flag");
    expect(moderatePrompt(prompt, "standard").action).toBe("block");
    const suggestive = "a woman in lingerie, boudoir photo";
    expect(moderatePrompt(suggestive, "standard").action).toBe("flag");
    expect(moderatePrompt(suggestive, "strict").action).toBe("block");
    expect(moderatePrompt("porn", "relaxed").action).toBe("block");
  });

  it("always blocks minors together with anything sexual, naming both spans", () => {
    for (const strictness of ["relaxed", "standard", "strict"] as const) {
      const v = moderatePrompt("a 13 year old in a bikini", strictness);
      expect(v.action).toBe("block");
      expect(v.categories).toEqual(["sexual", "minors"]);
      expect(v.matches.map((m) => m.text)).toEqual(["13 year old", "bikini"]);
    }
    // Either alone is fine.
    expect(moderatePrompt("a child flying a kite", "strict").action).toBe("allow");
    expect(moderatePrompt("a woman in a bikini", "standard").action).toBe("flag");
  });

  it("raises graphic violence next to minors to every strictness", () => {
    expect(moderatePrompt("a gory zombie poster", "relaxed").action).toBe("flag");
    const v = moderatePrompt("a gory scene with children", "relaxed");
    expect(v.action).toBe("block");
    expect(v.categories).toEqual(["minors", "violence"]);
  });

  it("sees through evasions", () => {
    for (const prompt of [
      "n u d e beach",
      "nud3 beach",
      "nuuuude beach",
      "n\u200bude beach",
      "\u0455\u0435\u0445 scene",
      "ｎｕｄｅ beach",
      "ñúdé beach",
      "d3c4p1tated",
      "f u c k",
    ]) {
      expect(moderatePrompt(prompt, "strict").action, prompt).toBe("block");
    }
  });

  it("does not trip on harmless words that contain listed ones", () => {
    for (const prompt of [
      "a murder of crows",
      "a killer whale",
      "a field of rapeseed",
      "a bowl of cumin",
      "an assortment of pastries",
      "a great tit on a branch",
      "scunthorpe",
      "a nude lipstick flat lay",
      "the cockpit of a plane",
    ]) {
      expect(moderatePrompt(prompt, "standard").action, prompt).toBe("allow");
    }
  });

  it("uses the obscenity word list for profanity and slurs", () => {
    expect(moderatePrompt("what the f*ck", "standard")).toMatchObject({
      action: "flag",
      categories: ["profanity"],
    });
    expect(moderatePrompt("what the f*ck", "strict").action).toBe("block");
  });
});
