import { describe, expect, it } from "vitest";
import type { Project } from "../../db/schema/projects.ts";
import { moderationPolicyOf } from "./moderation-policy.ts";

const project = (moderationPolicy: Project["moderationPolicy"]): Project => ({
  id: "proj_1",
  accountId: "acct_1",
  name: "p",
  visibility: "private",
  moderationPolicy,
  createdAt: new Date(),
  updatedAt: new Date(),
});

describe("moderationPolicyOf", () => {
  it("carries the protocol's fields, defaulting strictness", () => {
    expect(moderationPolicyOf(project({}))).toEqual({ strictness: "standard" });
    expect(moderationPolicyOf(project({ strictness: "strict", prompt_words: ["x"] }))).toEqual({
      strictness: "strict",
    });
    expect(moderationPolicyOf(project({ thresholds: { porn: 0.5, sexy: null } }))).toEqual({
      strictness: "standard",
      thresholds: { porn: 0.5, sexy: null },
    });
  });

  it("sends nothing without a project or for a policy the protocol cannot carry", () => {
    expect(moderationPolicyOf(null)).toBeUndefined();
    expect(moderationPolicyOf(project({ strictness: "lenient" as "relaxed" }))).toBeUndefined();
    expect(moderationPolicyOf(project({ thresholds: { porn: 7 } }))).toBeUndefined();
  });
});
