import type { NodeStatus } from "../metrics/node-status.ts";

/** A serving node's reading for tests, with the given fields. */
export function statusOf(over: Partial<NodeStatus>): NodeStatus {
  return {
    at: 0,
    ready: true,
    draining: false,
    depth: { fast: 0, standard: 0, relax: 0 },
    queued: 0,
    inFlight: 0,
    oldestJobAgeMs: 0,
    activeNodes: 1,
    activeJobs: 0,
    backlogPerInstance: 0,
    throughputPerS: 0,
    serviceMsPerImage: null,
    estimatedWaitMs: null,
    failureRate: 0,
    recentJobs: 0,
    recentFailures: {},
    warmModels: ["cppn-glove@2026-11-27.1"],
    executionProvider: "cuda",
    batching: { maxBatch: 8, maxBatchDelayMs: 10 },
    ...over,
  };
}
