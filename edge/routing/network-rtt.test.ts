import { describe, expect, it } from "vitest";
import { DEFAULT_RTT_MODEL, distanceRttMs, RttObservations } from "./network-rtt.ts";

const LONDON = { lat: 51.5074, lon: -0.1278 };
const NEW_YORK = { lat: 40.7128, lon: -74.006 };

describe("distanceRttMs", () => {
  it("is the base plus there and back along the inflated great circle at fibre speed", () => {
    // 5570 km x 2 x 1.5 / 200 km/ms = 83.6 ms, + 5 ms.
    expect(distanceRttMs(LONDON, NEW_YORK)).toBeCloseTo(88.6, 0);
    expect(distanceRttMs(LONDON, LONDON)).toBe(DEFAULT_RTT_MODEL.baseMs);
    const straight = { ...DEFAULT_RTT_MODEL, pathInflation: 1, baseMs: 0 };
    expect(distanceRttMs(LONDON, NEW_YORK, straight)).toBeCloseTo(55.7, 0);
  });
});

describe("RttObservations", () => {
  it("starts from the distance prior and moves a quarter of the way to each sample", () => {
    const rtt = new RttObservations();
    expect(rtt.estimate("LHR", "us-east")).toBeNull();
    rtt.observe("LHR", "us-east", 120, 80);
    expect(rtt.estimate("LHR", "us-east")).toBe(90);
    rtt.observe("LHR", "us-east", 130, 80);
    expect(rtt.estimate("LHR", "us-east")).toBe(100);
    // Colos and regions are estimated separately.
    expect(rtt.estimate("FRA", "us-east")).toBeNull();
    expect(rtt.estimate("LHR", "eu-west")).toBeNull();
  });

  it("starts from the first sample when there is no prior, and converges to what it sees", () => {
    const rtt = new RttObservations();
    rtt.observe("self", "eu-west", 40, null);
    expect(rtt.estimate("self", "eu-west")).toBe(40);
    for (let i = 0; i < 40; i++) rtt.observe("self", "eu-west", 10, null);
    expect(rtt.estimate("self", "eu-west")).toBeCloseTo(10, 3);
  });

  it("discards impossible samples", () => {
    const rtt = new RttObservations();
    for (const bad of [-1, Number.NaN, Infinity, DEFAULT_RTT_MODEL.maxSampleMs + 1]) {
      rtt.observe("LHR", "us-east", bad, 80);
    }
    expect(rtt.estimate("LHR", "us-east")).toBeNull();
  });

  it("keeps at most maxKeys pairs, dropping the one updated longest ago", () => {
    const rtt = new RttObservations({ ...DEFAULT_RTT_MODEL, maxKeys: 2 });
    rtt.observe("A", "r", 1, null);
    rtt.observe("B", "r", 2, null);
    rtt.observe("A", "r", 1, null);
    rtt.observe("C", "r", 3, null);
    expect([rtt.estimate("A", "r"), rtt.estimate("B", "r"), rtt.estimate("C", "r")]).toEqual([
      1,
      null,
      3,
    ]);
  });
});
