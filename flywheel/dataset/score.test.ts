import { describe, expect, it } from "vitest";
import { addDownloads, addSignal, emptyScore, MAX_PAIRS_PER_PROMPT, pairsOf } from "./score.ts";

describe("engagement scores and pairs", () => {
  it("weighs each signal by its giver's weight", () => {
    const s = emptyScore();
    addSignal(s, { kind: "like", weight: 1 });
    addSignal(s, { kind: "like", weight: 0.02 });
    addSignal(s, { kind: "refine", weight: 1 });
    addSignal(s, { kind: "dislike", weight: 0.5 });
    addSignal(s, { kind: "report", weight: 1 });
    addDownloads(s, 2);
    expect(s).toMatchObject({
      likes: 1.02,
      refines: 1,
      dislikes: 0.5,
      reports: 1,
      downloads: 2,
      signals: 5,
    });
    expect(s.score).toBeCloseTo(1.02 + 1 - 0.5 - 2 + 0.5, 9);
  });

  it("pairs outputs of a prompt by score, drops ties, widest gaps first", () => {
    const { pairs, ties } = pairsOf([
      { id: "a", key: "a", score: 2 },
      { id: "b", key: "b", score: 0 },
      { id: "c", key: "c", score: 0 },
      { id: "d", key: "d", score: -1 },
    ]);
    expect(ties).toBe(1);
    expect(pairs.map((p) => `${p.chosen.id}>${p.rejected.id}`)).toEqual([
      "a>d",
      "a>b",
      "a>c",
      "b>d",
      "c>d",
    ]);
    // The same outputs in another order give the same pairs.
    expect(
      pairsOf([
        { id: "d", key: "d", score: -1 },
        { id: "c", key: "c", score: 0 },
        { id: "a", key: "a", score: 2 },
        { id: "b", key: "b", score: 0 },
      ]).pairs,
    ).toEqual(pairs);
  });

  it("names pairs by the images: the same bytes are a tie, and two images make one pair", () => {
    const { pairs, ties } = pairsOf([
      { id: "g1", key: "img-a", score: 3 },
      { id: "g2", key: "img-a", score: 1 },
      { id: "g3", key: "img-b", score: 0 },
      { id: "g4", key: "img-b", score: -1 },
    ]);
    // g1 vs g2 and g3 vs g4 show the same image (ties); a > b once, from the widest gap.
    expect(ties).toBe(2);
    expect(pairs.map((p) => `${p.chosen.id}>${p.rejected.id}`)).toEqual(["g1>g4"]);
  });

  it("pairs the same images the same way whatever ids the rows got", () => {
    const outputs = (ids: string[]) =>
      ["x", "y", "z"].map((key, i) => ({ id: ids[i]!, key, score: i === 1 ? 1 : 0 }));
    const keys = (p: ReturnType<typeof pairsOf>["pairs"]) =>
      p.map((q) => `${q.chosen.key}>${q.rejected.key}`);
    expect(keys(pairsOf(outputs(["9", "1", "5"])).pairs)).toEqual(
      keys(pairsOf(outputs(["2", "8", "3"])).pairs),
    );
  });

  it("caps the pairs of one prompt", () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ id: `g${i}`, key: `g${i}`, score: i }));
    expect(pairsOf(many).pairs).toHaveLength(MAX_PAIRS_PER_PROMPT);
  });
});
