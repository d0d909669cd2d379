import { describe, expect, it } from "vitest";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { DedupSources } from "./dedup-sources.ts";

const succeeded = (over: Partial<GenerationRow> = {}) =>
  ({
    id: "gen_a",
    status: "succeeded",
    cached: false,
    contentHash: "h1",
    mergedIntoGenerationId: null,
    assetKey: "k.png",
    costActualMicrousd: 40,
    ...over,
  }) as GenerationRow;

describe("DedupSources", () => {
  it("remembers work that succeeded, for ttlMs", () => {
    let now = 0;
    const sources = new DedupSources({ clock: () => now, ttlMs: 1_000 });
    sources.remember(succeeded());
    expect(sources.get("h1")).toMatchObject({
      id: "gen_a",
      assetKey: "k.png",
      costActualMicrousd: 40,
    });
    now = 1_001;
    expect(sources.get("h1")).toBeNull();
  });

  it("never takes an answer from storage, a follower, or unfinished work as a source", () => {
    const sources = new DedupSources({ clock: () => 0, ttlMs: 1_000 });
    sources.remember(succeeded({ cached: true }));
    sources.remember(succeeded({ mergedIntoGenerationId: "gen_leader" }));
    sources.remember(succeeded({ status: "running" }));
    sources.remember(succeeded({ contentHash: null }));
    expect(sources.get("h1")).toBeNull();
  });
});
