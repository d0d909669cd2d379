import { describe, expect, it } from "vitest";
import { describeError } from "./describe-error.ts";

describe("describeError", () => {
  it("drops bound query parameters but keeps the query, stack and cause", () => {
    const cause = new Error("duplicate key value violates unique constraint");
    const err = new Error(
      'Failed query: insert into "generations" ("prompt") values ($1)\nparams: a secret prompt',
      {
        cause,
      },
    );
    const text = describeError(err);
    expect(text).toContain('Failed query: insert into "generations"');
    expect(text).not.toContain("a secret prompt");
    expect(text).toContain("caused by: Error: duplicate key value");
    expect(text).toMatch(/\n\s+at /);
  });

  it("describes non-errors and bounds the length", () => {
    expect(describeError("plain")).toBe("plain");
    expect(describeError(new Error("x".repeat(5000)), 100)).toHaveLength(100);
  });
});
