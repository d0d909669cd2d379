import { describe, expect, it } from "vitest";
import { foldText, originalSpan } from "./normalize.ts";

const fold = (s: string) => foldText(s).text;

describe("foldText", () => {
  it("lower-cases and folds compatibility forms (NFKC)", () => {
    expect(fold("ＮＵＤＥ")).toBe("nude");
    expect(fold("𝓷𝓾𝓭𝓮")).toBe("nude");
    expect(fold("ﬁne")).toBe("fine");
  });

  it("drops zero-width characters, combining marks and blank fillers", () => {
    expect(fold("n\u200bu\u200cd\u200de\u2060")).toBe("nude");
    expect(fold("n\u0338u\u0338d\u0338e\u0338")).toBe("nude");
    expect(fold("ñúdé")).toBe("nude");
    expect(fold("a\u3164b")).toBe("ab");
  });

  it("reads homoglyphs as the Latin letters they imitate", () => {
    expect(fold("\u0440\u043e\u0440")).toBe("pop"); // Cyrillic
    expect(fold("\u03bd\u03bf")).toBe("vo"); // Greek
    expect(fold("\u13b7\u13aa")).toBe("ma"); // Cherokee capitals
    expect(fold("\ud83c\udd7d\ud83c\udd84")).toBe("nu"); // negative squared letters
  });

  it("closes up runs of three or more spaced-out characters, and only those", () => {
    const folded = foldText("a n u d e woman");
    expect(folded.text).toBe("anude woman");
    expect(folded.joined).toEqual([{ start: 0, end: 5 }]);
    expect(fold("n.u.d.e")).toBe("nude");
    expect(fold("g-o-r-e")).toBe("gore");
    expect(fold("a b")).toBe("a b");
    expect(fold("go realistic")).toBe("go realistic");
  });

  it("maps every folded character back to its span in the original", () => {
    const original = "x 𝓷\u200bude!";
    const folded = foldText(original);
    const start = folded.text.indexOf("nude");
    const span = originalSpan(folded, start, start + 4);
    expect(original.slice(span.start, span.end)).toBe("𝓷\u200bude");
    const spaced = "see: n u d e";
    const f2 = foldText(spaced);
    const s2 = originalSpan(f2, f2.text.indexOf("nude"), f2.text.indexOf("nude") + 4);
    expect(spaced.slice(s2.start, s2.end)).toBe("n u d e");
  });
});
