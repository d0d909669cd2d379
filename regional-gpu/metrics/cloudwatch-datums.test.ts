import { describe, expect, it } from "vitest";
import {
  addSample,
  datumsOf,
  emptyPeriod,
  MAX_DATUMS_PER_REQUEST,
  periodStart,
  putRequests,
  valuesAndCounts,
} from "./cloudwatch-datums.ts";
import { statusOf } from "../testing/status-of.ts";

const GROUPS = ["genart-prod-eu-west-base", "genart-prod-eu-west-burst"];

describe("CloudWatch datums of the scaling signals", () => {
  it("carries every sample of a period, once per group, timestamped inside the period", () => {
    const start = periodStart(1_700_000_075_000, 60_000);
    expect(start).toBe(1_700_000_040_000);
    const period = emptyPeriod(start);
    for (const [queued, ageMs] of [
      [8, 12_000],
      [8, 30_000],
      [2, 0],
    ] as const) {
      addSample(period, statusOf({ backlogPerInstance: queued / 2, oldestJobAgeMs: ageMs }));
    }
    const datums = datumsOf(period, {
      periodMs: 60_000,
      groups: GROUPS,
      scopes: new Set(["region", "node"]),
    });
    expect(datums.map((d) => `${d.MetricName}:${d.Dimensions![0]!.Value}`)).toEqual([
      `BacklogPerInstance:${GROUPS[0]}`,
      `BacklogPerInstance:${GROUPS[1]}`,
      `OldestJobAgeSeconds:${GROUPS[0]}`,
      `OldestJobAgeSeconds:${GROUPS[1]}`,
      `WarmModels:${GROUPS[0]}`,
      `WarmModels:${GROUPS[1]}`,
    ]);
    const backlog = datums[0]!;
    expect(backlog).toMatchObject({
      Dimensions: [{ Name: "AutoScalingGroupName", Value: GROUPS[0] }],
      Values: [1, 4],
      Counts: [1, 2],
      Unit: "Count",
      StorageResolution: 60,
    });
    // Average (3) and Maximum (4) of the period are the samples', not the last one's.
    expect(datums[2]).toMatchObject({ Values: [0, 12, 30], Counts: [1, 1, 1], Unit: "Seconds" });
    expect(backlog.Timestamp!.getTime()).toBe(start + 30_000);
  });

  it("leaves out region-wide figures on a node that is not the region's publisher", () => {
    const period = emptyPeriod(0);
    addSample(period, statusOf({ warmModels: ["a@1", "b@2"] }));
    const datums = datumsOf(period, {
      periodMs: 60_000,
      groups: GROUPS,
      scopes: new Set(["node"]),
    });
    expect(datums.map((d) => d.MetricName)).toEqual(["WarmModels", "WarmModels"]);
    expect(datums[0]).toMatchObject({ Values: [2], Counts: [1] });
  });

  it("sends nothing for a period without samples", () => {
    const datums = datumsOf(emptyPeriod(0), {
      periodMs: 60_000,
      groups: GROUPS,
      scopes: new Set(["region", "node"]),
    });
    expect(datums).toEqual([]);
  });

  it("merges repeated values, and splits requests at CloudWatch's 1,000 datums", () => {
    expect(valuesAndCounts([3, 0, 3, 3, 0.5])).toEqual({ Values: [0, 0.5, 3], Counts: [1, 1, 3] });
    const period = emptyPeriod(0);
    addSample(period, statusOf({}));
    const groups = Array.from({ length: 400 }, (_, i) => `group-${i}`);
    const datums = datumsOf(period, {
      periodMs: 60_000,
      groups,
      scopes: new Set(["region", "node"]),
    });
    const requests = putRequests("GenArt/Region", datums);
    expect(requests.map((r) => r.MetricData!.length)).toEqual([MAX_DATUMS_PER_REQUEST, 200]);
    expect(requests.every((r) => r.Namespace === "GenArt/Region")).toBe(true);
  });
});
