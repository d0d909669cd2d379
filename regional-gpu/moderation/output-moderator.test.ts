import { describe, expect, it } from "vitest";
import { ModerationPolicy, type SafetyScores } from "../../contracts/region-protocol.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import { OutputModerator } from "./output-moderator.ts";
import type { SafetyClassifier } from "./safety-classifier.ts";
import { solid } from "./synthetic-images.ts";

// How the moderator batches and routes checks, with classifiers that score by a rule (their real
// counterparts are tested in onnx-classifier.test.ts and output-gate.test.ts): checks started
// together are one screen run, their flags one confirming run; failures stay with their checks.

/** Scores "porn" as the image's first byte / 255, the rest "neutral"; records each batch's size. */
function ruleClassifier(id: string, side: number, porn = (first: number) => first / 255) {
  const batches: number[] = [];
  const classifier: SafetyClassifier & { batches: number[]; fail: boolean } = {
    id,
    side,
    batches,
    fail: false,
    async classify(images) {
      batches.push(images.length);
      if (classifier.fail) throw new Error("classifier run failed");
      return images.map((image): SafetyScores => {
        const p = porn(image[0]!);
        return { drawing: 0, hentai: 0, neutral: 1 - p, porn: p, sexy: 0 };
      });
    },
  };
  return classifier;
}

const grey = (level: number, side = 32): RawImage => solid(side, [level, level, level]);
const strict = ModerationPolicy.parse({ strictness: "strict" });

describe("OutputModerator", () => {
  it("screens checks started together in one run and re-judges their flags in one more", async () => {
    const screen = ruleClassifier("screen", 16);
    const confirm = ruleClassifier("confirm", 16, () => 0.01);
    const moderator = new OutputModerator({ screen, confirm });
    const checks = await Promise.all([
      moderator.check(grey(10)),
      moderator.check(grey(250)),
      moderator.check(grey(20)),
      moderator.check(grey(240)),
      moderator.check(grey(245), strict),
    ]);
    expect(screen.batches).toEqual([5]);
    // Standard policy: two flags re-judged together; strict: the screen's verdict stands.
    expect(confirm.batches).toEqual([2]);
    expect(checks.map((c) => [c.classifier, c.verdict.blocked])).toEqual([
      ["screen", false],
      ["confirm", false],
      ["screen", false],
      ["confirm", false],
      ["screen", true],
    ]);
    expect(checks[1]!.screening).toMatchObject({
      classifier: "screen",
      verdict: { blocked: true },
    });
    expect(checks[0]!.screening).toBeUndefined();
    for (const check of checks) expect(check.ms).toBeGreaterThan(0);
  });

  it("runs checks started later in a later batch", async () => {
    const screen = ruleClassifier("screen", 16);
    const moderator = new OutputModerator({ screen });
    await Promise.all([moderator.check(grey(1)), moderator.check(grey(2))]);
    await moderator.check(grey(3));
    expect(screen.batches).toEqual([2, 1]);
  });

  it("fails only the check whose image cannot be resized", async () => {
    const screen = ruleClassifier("screen", 16);
    const moderator = new OutputModerator({ screen });
    const broken: RawImage = { width: 32, height: 32, channels: 3, data: new Uint8Array(7) };
    const [bad, good] = await Promise.allSettled([
      moderator.check(broken),
      moderator.check(grey(9)),
    ]);
    expect(bad!.status).toBe("rejected");
    expect(good).toMatchObject({ status: "fulfilled", value: { verdict: { blocked: false } } });
    expect(screen.batches).toEqual([1]);
  });

  it("fails every check of a batch whose run fails", async () => {
    const screen = ruleClassifier("screen", 16);
    screen.fail = true;
    const moderator = new OutputModerator({ screen });
    const outcomes = await Promise.allSettled([moderator.check(grey(1)), moderator.check(grey(2))]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
  });
});
