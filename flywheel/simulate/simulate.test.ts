import { describe, expect, it } from "vitest";
import { summarize } from "./report.ts";
import { QUICK, runSimulation } from "./simulate.ts";

// `npm run flywheel -- simulate --quick` as a test: the real local stack (PGlite, the Node edge, a
// region running the model through ONNX Runtime), simulated users through the public API, and the
// loop closing by itself.

describe("the flywheel, simulated", () => {
  // A run is a pure function of its seed (every draw is made in user order before any request,
  // pairs are named by their images' bytes, not by random row ids), so this asserts one outcome,
  // not a likely one. The same assertions hold for seeds 1-8 (docs/flywheel.md, "Seeds").
  it(
    "rolls back a deliberately worse version and ships a trained one users like more, by itself, unmoved by spammers",
    { timeout: 300_000 },
    async () => {
      const run = await runSimulation({ ...QUICK, fraudControls: true, log: () => {} });
      const summary = summarize(run);
      expect(summary.promoted.length).toBeGreaterThanOrEqual(1);
      expect(summary.worseRolledBack).toBe(true);
      expect(summary.endLikeRate).toBeGreaterThan(summary.startLikeRate + 0.1);
      expect(summary.trainedLikeRate).toBeGreaterThan(summary.referenceLikeRate + 0.1);
      // Every promoted version was trained (with lineage), never the injected one.
      for (const v of summary.promoted) expect(run.versions[v]).toBe("trained");
      // The spammers (a ring liking every canary output and disliking the default's, in bursts,
      // never fetching) would move the measured approval if counted; the controls keep it at the
      // honest users' own.
      expect(summary.spamEffect.withoutControls).toBeGreaterThan(0.1);
      expect(summary.spamEffect.withControls).toBeLessThan(0.03);
    },
  );
});
