import { describe, expect, it } from "vitest";
import { jobId, parseJobId } from "./job-id.ts";

const GEN = "gen_01jdq5v4w8x9y0z1a2b3c4d5e6";

describe("job ids", () => {
  it("name the first attempt by the generation id and later ones with a suffix", () => {
    expect(jobId({ generationId: GEN, attempt: 1 })).toBe(GEN);
    expect(jobId({ generationId: GEN, attempt: 3 })).toBe(`${GEN}.3`);
    for (const attempt of [1, 2, 9, 10, 42]) {
      expect(parseJobId(jobId({ generationId: GEN, attempt }))).toEqual({
        generationId: GEN,
        attempt,
      });
    }
  });

  it.each([
    `${GEN}.1`,
    `${GEN}.0`,
    `${GEN}.07`,
    `${GEN}.100`,
    "gen_short",
    `job_${GEN.slice(4)}`,
    `${GEN}x`,
  ])("refuses %j", (id) => expect(parseJobId(id)).toBeNull());
});
