import { describe, expect, it } from "vitest";
import { ModerationPolicy, RegionJob, type SafetyScores } from "../../contracts/region-protocol.ts";
import {
  confirmsFlags,
  DEFAULT_POLICY,
  judge,
  STRICTNESS_THRESHOLDS,
  thresholdsOf,
} from "./policy.ts";

const scores = (over: Partial<SafetyScores>): SafetyScores => ({
  drawing: 0,
  hentai: 0,
  neutral: 0,
  porn: 0,
  sexy: 0,
  ...over,
});

describe("moderation policy", () => {
  it("defaults to standard, from the contract's own default", () => {
    expect(DEFAULT_POLICY).toEqual({ strictness: "standard" });
    expect(ModerationPolicy.parse({})).toEqual(DEFAULT_POLICY);
    expect(thresholdsOf()).toEqual(STRICTNESS_THRESHOLDS.standard);
  });

  it("orders strictness levels: stricter blocks at lower scores in every category", () => {
    const { strict, standard, relaxed } = STRICTNESS_THRESHOLDS;
    for (const c of ["porn", "hentai", "sexy"] as const) {
      expect(strict[c]!).toBeLessThan(standard[c]!);
      if (relaxed[c] !== null) expect(standard[c]!).toBeLessThan(relaxed[c]!);
    }
    expect(relaxed.sexy).toBeNull();
  });

  it("blocks at the threshold, not below, and lists categories by score", () => {
    const t = STRICTNESS_THRESHOLDS.standard;
    expect(judge(scores({ porn: t.porn! - 0.001, neutral: 0.5 })).blocked).toBe(false);
    const v = judge(scores({ porn: t.porn!, hentai: 0.9, sexy: 0.95 }));
    expect(v).toMatchObject({ blocked: true, categories: ["sexy", "hentai", "porn"] });
    expect(v.thresholds).toEqual(t);
  });

  it("applies per-category overrides over the strictness, null switching a category off", () => {
    const policy = ModerationPolicy.parse({
      strictness: "relaxed",
      thresholds: { sexy: 0.3, porn: null },
    });
    expect(thresholdsOf(policy)).toEqual({
      ...STRICTNESS_THRESHOLDS.relaxed,
      sexy: 0.3,
      porn: null,
    });
    expect(judge(scores({ porn: 1 }), policy).blocked).toBe(false);
    expect(judge(scores({ sexy: 0.31 }), policy).categories).toEqual(["sexy"]);
  });

  it("lets a confirming classifier overrule the screen except under strict", () => {
    expect(confirmsFlags(ModerationPolicy.parse({ strictness: "strict" }))).toBe(false);
    expect(confirmsFlags(ModerationPolicy.parse({ strictness: "standard" }))).toBe(true);
    expect(confirmsFlags(ModerationPolicy.parse({ strictness: "relaxed" }))).toBe(true);
  });

  it("refuses thresholds outside (0, 1], unknown categories and unknown fields", () => {
    for (const bad of [
      { thresholds: { porn: 0 } },
      { thresholds: { porn: 1.5 } },
      { thresholds: { drawing: 0.5 } },
      { strictness: "lenient" },
      { strictness: "strict", extra: true },
    ]) {
      expect(ModerationPolicy.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("is optional on a RegionJob (older edges send none)", () => {
    const job = {
      job_id: "gen_1",
      request_id: "req_1",
      account_id: "acct_1",
      project_id: null,
      model: "cppn-glove",
      model_version: "1",
      prompt: "p",
      negative_prompt: null,
      width: 64,
      height: 64,
      seed: 1,
      priority: "standard",
      callback_url: "http://127.0.0.1/cb",
      submitted_at: new Date().toISOString(),
    };
    expect(RegionJob.parse(job).moderation).toBeUndefined();
    const strict = RegionJob.parse({ ...job, moderation: { strictness: "strict" } });
    expect(strict.moderation).toEqual({ strictness: "strict" });
  });
});
