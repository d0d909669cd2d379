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
      { id: "a", score: 2 },
      { id: "b", score: 0 },
      { id: "c", score: 0 },
      { id: "d", score: -1 },
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
        { id: "d", score: -1 },
        { id: "c", score: 0 },
        { id: "a", score: 2 },
        { id: "b", score: 0 },
      ]).pairs,
    ).toEqual(pairs);
  });

  it("caps the pairs of one prompt", () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ id: `g${i}`, score: i }));
    expect(pairsOf(many).pairs).toHaveLength(MAX_PAIRS_PER_PROMPT);
  });
});
