import { describe, expect, it } from "vitest";
import { loadInstanceTypes, loadServiceProfile } from "../inputs/profiles.ts";
import { loadScalingPolicy } from "../inputs/terraform-policy.ts";
import { EDGE, NODE, policiesFor } from "../run.ts";
import { DiurnalArrivals } from "../workload/arrivals.ts";
import { METROS, REGIONS } from "../workload/geography.ts";
import { Outcome } from "./results.ts";
import { Simulation, type SimulationConfig } from "./simulator.ts";

// Mechanisms that the comparison's own runs rarely exercise: spot reclaims (a few a month per
// instance) and a region going away with work in it.

const HOUR = 3_600_000;
const inputs = {
  tf: loadScalingPolicy(),
  profile: loadServiceProfile(),
  types: loadInstanceTypes(),
  requestsPerDay: 2_000_000,
  seed: 5,
};

function simulate(policyName: string, over: Partial<SimulationConfig> = {}) {
  const policy = policiesFor(inputs).find((p) => p.name === policyName)!;
  return new Simulation({
    policy,
    sites: REGIONS,
    metros: METROS,
    arrivals: new DiurnalArrivals({
      requestsPerDay: inputs.requestsPerDay,
      durationMs: HOUR,
      seed: 5,
      startOfDayMs: 14 * HOUR,
    }),
    durationMs: HOUR,
    drainMs: HOUR,
    profile: inputs.profile,
    types: inputs.types,
    seed: 5,
    edge: EDGE,
    node: NODE,
    ...over,
  }).run();
}

const outcomes = (log: ReturnType<typeof simulate>["log"]) => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < log.count; i++) counts[log.outcome[i]!]!++;
  return counts;
};

describe("Simulation", () => {
  it("replaces reclaimed spot nodes and reruns the batches they held, losing no request", () => {
    // Spot capacity lives in the mixed group of the CPU baseline; make reclaims frequent.
    const run = simulate("cpu", { spotRateFactor: 20_000 });
    expect(run.spotInterruptions).toBeGreaterThan(5);
    const [pending = 0, done = 0, shed = 0, failed = 0] = outcomes(run.log);
    // Every request ends: run, or turned away at the edge while capacity was short (never lost).
    expect(pending).toBe(0);
    expect(failed).toBe(0);
    expect(done + shed).toBe(run.log.count);
    expect(done).toBeGreaterThan(0.9 * run.log.count);
    expect(run.nodes.filter((n) => n.spot && n.state === "terminated").length).toBeGreaterThan(0);
  });

  it("redispatches a lost region's work and routes around it until it is back", () => {
    const run = simulate("ours", {
      regionLoss: { region: "ap-south", atMs: 20 * 60_000, durationMs: 20 * 60_000 },
    });
    expect(run.redispatched).toBeGreaterThan(0);
    const [, done = 0, , failed = 0] = outcomes(run.log);
    expect(failed).toBe(0);
    expect(done).toBe(run.log.count);
    // Jobs that arrived during the outage waited no longer than the others at the 99th percentile
    // plus a dispatch timeout: the edge stopped sending them to the lost region.
    let worst = 0;
    for (let i = 0; i < run.log.count; i++) {
      const at = run.log.arrivedAt[i]!;
      if (at > 25 * 60_000 && at < 40 * 60_000 && run.log.outcome[i] === Outcome.Done) {
        worst = Math.max(worst, run.log.ttiMs[i]!);
      }
    }
    expect(worst).toBeLessThan(30_000);
  });
});
