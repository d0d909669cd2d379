import { describe, expect, it } from "vitest";
import type { Heartbeat } from "../../contracts/region-protocol.ts";
import { nodeWaitMs, regionWaitMs, serviceMsOf } from "./queue-wait.ts";

const node = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  region: "eu-west",
  node_id: "n1",
  at: new Date().toISOString(),
  ready: true,
  draining: false,
  queue_depth: { fast: 2, standard: 3, relax: 5 },
  in_flight: 1,
  capacity: 4,
  throughput_per_s: 0,
  warm_models: [],
  failure_rate: 0,
  execution_provider: "cpu",
  service_ms_per_image: 100,
  ...over,
});
const none = { fast: 0, standard: 0, relax: 0 };

describe("nodeWaitMs", () => {
  it("counts the job's lane and the faster ones, plus what is running", () => {
    expect(nodeWaitMs(node(), "fast", 1_000)).toBe((2 + 1) * 100);
    expect(nodeWaitMs(node(), "standard", 1_000)).toBe((2 + 3 + 1) * 100);
    expect(nodeWaitMs(node(), "relax", 1_000)).toBe((2 + 3 + 5 + 1) * 100);
  });

  it("prefers the node's own per-lane estimate", () => {
    const hb = node({ estimated_wait_ms: { fast: 7, standard: 70, relax: 700 } });
    expect(nodeWaitMs(hb, "standard", 1_000)).toBe(70);
  });

  it("takes the oldest queued job's age as a floor when every queued job is ahead", () => {
    const stuck = node({ oldest_job_age_ms: 30_000 });
    expect(nodeWaitMs(stuck, "relax", 1_000)).toBe(30_000);
    // The old job may be a relax one, behind a fast newcomer: no floor then.
    expect(nodeWaitMs(stuck, "fast", 1_000)).toBe(300);
    expect(nodeWaitMs(node({ queue_depth: none, oldest_job_age_ms: 0 }), "fast", 1_000)).toBe(100);
  });
});

describe("serviceMsOf", () => {
  it("uses the measured time, else the inverse of throughput, else the default", () => {
    expect(serviceMsOf(node({ service_ms_per_image: 40 }), 1_000)).toBe(40);
    expect(serviceMsOf(node({ service_ms_per_image: null, throughput_per_s: 4 }), 1_000)).toBe(250);
    expect(serviceMsOf(node({ service_ms_per_image: undefined }), 1_000)).toBe(1_000);
  });
});

describe("regionWaitMs", () => {
  it("is the soonest node's wait", () => {
    const busy = node({ node_id: "busy" });
    const idle = node({ node_id: "idle", queue_depth: none, in_flight: 0 });
    expect(regionWaitMs([busy, idle], "standard", none, 1_000)).toBe(0);
  });

  it("adds the jobs sent since the heartbeat, in lanes ahead, spread over the nodes", () => {
    const a = node({ queue_depth: none, in_flight: 0 });
    const b = node({ node_id: "n2", queue_depth: none, in_flight: 0 });
    const sent = { fast: 2, standard: 4, relax: 6 };
    expect(regionWaitMs([a], "standard", sent, 1_000)).toBe(600);
    expect(regionWaitMs([a, b], "standard", sent, 1_000)).toBe(300);
    expect(regionWaitMs([a], "fast", sent, 1_000)).toBe(200);
    // A region never heard from: only what this edge sent it, at the default service time.
    expect(regionWaitMs([], "standard", sent, 1_000)).toBe(6_000);
    expect(regionWaitMs([], "standard", none, 1_000)).toBe(0);
  });
});
