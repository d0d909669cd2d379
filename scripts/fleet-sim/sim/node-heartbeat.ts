import type { Heartbeat } from "../../../contracts/region-protocol.ts";
import { heartbeatOf, type NodeStatus } from "../../../regional-gpu/metrics/node-status.ts";
import type { ThroughputMeter } from "../../../regional-gpu/metrics/throughput.ts";
import { laneWaitsMs } from "../../../regional-gpu/queue/wait-estimate.ts";
import type { BatchLimits } from "../../../regional-gpu/scheduler/batch-policy.ts";
import type { RegionQueue } from "./region-queue.ts";

// A simulated node's heartbeat, built as a real node builds it: a NodeStatus reading (the shared
// queue's depth and oldest job, this node's batch, its ThroughputMeter) through heartbeatOf, with
// the node's own per-lane wait estimate. The simulated nodes never fail a job, so the failure
// figures are zero.

export interface NodeReading {
  region: string;
  nodeId: string;
  now: number;
  draining: boolean;
  queue: RegionQueue;
  inFlight: number;
  activeNodes: number;
  /** Jobs taken and not finished on every node of the region. */
  activeJobs: number;
  meter: ThroughputMeter;
  warmModels: string[];
  batching: BatchLimits;
}

export function heartbeatFor(r: NodeReading): Heartbeat {
  const depth = { ...r.queue.depth };
  const msPerImage = r.meter.msPerJob();
  const oldest = r.queue.oldestEnqueuedAt();
  const status: NodeStatus = {
    at: r.now,
    ready: !r.draining,
    draining: r.draining,
    depth,
    queued: r.queue.size,
    inFlight: r.inFlight,
    oldestJobAgeMs: oldest === null ? 0 : Math.max(0, r.now - oldest),
    activeNodes: r.activeNodes,
    activeJobs: r.activeJobs,
    backlogPerInstance: (r.queue.size + r.activeJobs) / Math.max(1, r.activeNodes),
    throughputPerS: r.meter.perSecond(),
    serviceMsPerImage: msPerImage,
    estimatedWaitMs:
      msPerImage === null ? null : laneWaitsMs(depth, r.inFlight, msPerImage, r.activeNodes),
    failureRate: 0,
    recentJobs: 0,
    recentFailures: {},
    warmModels: r.warmModels,
    executionProvider: "cuda",
    batching: r.batching,
  };
  return heartbeatOf(status, { region: r.region, nodeId: r.nodeId });
}
