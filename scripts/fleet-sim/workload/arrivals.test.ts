import { describe, expect, it } from "vitest";
import { DAY_MS, DiurnalArrivals, diurnal, MINUTE_MS, type Arrival } from "./arrivals.ts";

const drain = (source: DiurnalArrivals) => {
  const minutes: Arrival[][] = [];
  for (let m = source.nextMinute(); m; m = source.nextMinute()) minutes.push(m);
  return minutes;
};

describe("diurnal arrivals", () => {
  it("has a daily mean of 1 with an evening peak and a night trough", () => {
    let sum = 0;
    for (let h = 0; h < 24; h += 0.01) sum += diurnal(h) * 0.01;
    expect(sum / 24).toBeCloseTo(1, 3);
    expect(diurnal(21)).toBeGreaterThan(1.4);
    expect(diurnal(5)).toBeLessThan(0.6);
  });

  it("delivers the day's volume, sorted, the same for the same seed", () => {
    const minutes = drain(
      new DiurnalArrivals({ requestsPerDay: 100_000, durationMs: DAY_MS, seed: 9 }),
    );
    expect(minutes).toHaveLength(1440);
    const total = minutes.reduce((n, m) => n + m.length, 0);
    expect(Math.abs(total - 100_000) / 100_000).toBeLessThan(0.01);
    for (const m of minutes)
      for (let i = 1; i < m.length; i++) expect(m[i]!.at).toBeGreaterThanOrEqual(m[i - 1]!.at);
    const again = drain(
      new DiurnalArrivals({ requestsPerDay: 100_000, durationMs: DAY_MS, seed: 9 }),
    );
    expect(again[700]).toEqual(minutes[700]);
  });

  it("multiplies the rate during a flash crowd", () => {
    const flash = { atMs: 30 * MINUTE_MS, durationMs: 10 * MINUTE_MS, factor: 20 };
    const source = new DiurnalArrivals({
      requestsPerDay: 200_000,
      durationMs: 60 * MINUTE_MS,
      seed: 1,
      flash,
    });
    const counts = drain(source).map((m) => m.length);
    const before = counts.slice(20, 30).reduce((a, b) => a + b, 0);
    const during = counts.slice(30, 40).reduce((a, b) => a + b, 0);
    expect(during / before).toBeGreaterThan(17);
    expect(during / before).toBeLessThan(23);
  });
});
