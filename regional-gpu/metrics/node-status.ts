import type { Priority } from "../../contracts/api.ts";
import type { Heartbeat } from "../../contracts/region-protocol.ts";
import type { NodeLifecycle } from "../lifecycle.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import { totalDepth } from "../queue/job-queue.ts";
import type { LaneDepths } from "../queue/queue-backend.ts";
import { laneWaitsMs } from "../queue/wait-estimate.ts";
import type { BatchLimits } from "../scheduler/batch-policy.ts";
import type { ThroughputMeter } from "./throughput.ts";

// One reading of how the node is doing, for the heartbeat and /metrics alike, so the edge and the
// fleet's autoscaler see the same numbers. Readings are cached briefly: a scrape reads many gauges,
// and a shared queue answers each read over the network.

export interface NodeStatus {
  at: number;
  ready: boolean;
  draining: boolean;
  depth: LaneDepths;
  queued: number;
  inFlight: number;
  /** Age of the oldest queued job; 0 when none is queued. */
  oldestJobAgeMs: number;
  /** Nodes taking from this node's queue (1 for the node-local queue). */
  activeNodes: number;
  /** Jobs taken from the queue and not finished, by every node taking from it. */
  activeJobs: number;
  /**
   * Jobs queued or running per node taking from the queue: the signal the fleet scales on. Running
   * jobs count: a backlog of queued jobs alone is 0 whenever the fleet keeps up, so a policy that
   * tracks it scales in until a queue forms again (scripts/fleet-sim shows the oscillation).
   */
  backlogPerInstance: number;
  throughputPerS: number;
  serviceMsPerImage: number | null;
  /** Wait of a job arriving now, per lane; null before the first batch gives a service time. */
  estimatedWaitMs: Record<Priority, number> | null;
  failureRate: number;
  recentJobs: number;
  recentFailures: Record<string, number>;
  warmModels: string[];
  executionProvider: string;
  batching: BatchLimits;
}

export interface NodeStatusParts {
  lifecycle: NodeLifecycle;
  queue: JobQueue;
  meter: ThroughputMeter;
  batching: BatchLimits;
  inFlight: () => number;
  models: () => { warmModels: string[]; executionProvider: string };
  now?: () => number;
  /** How long a reading is reused. */
  cacheMs?: number;
}

export class NodeStatusSource {
  private readonly parts: NodeStatusParts;
  private readonly now: () => number;
  private cached: { at: number; reading: Promise<NodeStatus> } | null = null;

  constructor(parts: NodeStatusParts) {
    this.parts = parts;
    this.now = parts.now ?? Date.now;
  }

  /** A reading at most cacheMs old. */
  read(): Promise<NodeStatus> {
    const now = this.now();
    if (this.cached && now - this.cached.at < (this.parts.cacheMs ?? 250)) {
      return this.cached.reading;
    }
    const reading = this.readNow(now);
    this.cached = { at: now, reading };
    // A failed read (e.g. the shared queue unreachable) is not reused.
    reading.catch(() => {
      if (this.cached?.reading === reading) this.cached = null;
    });
    return reading;
  }

  private async readNow(now: number): Promise<NodeStatus> {
    const { lifecycle, queue, meter, batching } = this.parts;
    const [depth, oldest, activeNodes, activeJobs] = await Promise.all([
      queue.depth(),
      queue.oldestEnqueuedAt(),
      queue.activeNodes(),
      queue.activeJobs(),
    ]);
    const queued = totalDepth(depth);
    const inFlight = this.parts.inFlight();
    const msPerImage = meter.msPerJob();
    const { warmModels, executionProvider } = this.parts.models();
    return {
      at: now,
      ready: lifecycle.ready,
      draining: lifecycle.draining,
      depth,
      queued,
      inFlight,
      oldestJobAgeMs: oldest === null ? 0 : Math.max(0, now - oldest),
      activeNodes,
      activeJobs,
      backlogPerInstance: (queued + activeJobs) / Math.max(1, activeNodes),
      throughputPerS: meter.perSecond(),
      serviceMsPerImage: msPerImage,
      estimatedWaitMs:
        msPerImage === null ? null : laneWaitsMs(depth, inFlight, msPerImage, activeNodes),
      failureRate: meter.failureRate(),
      recentJobs: meter.recentJobs(),
      recentFailures: meter.recentFailures(),
      warmModels,
      executionProvider,
      batching: { maxBatch: batching.maxBatch, maxBatchDelayMs: batching.maxBatchDelayMs },
    };
  }
}

/** The signed heartbeat body for one reading. */
export function heartbeatOf(
  status: NodeStatus,
  node: { region: string; nodeId: string },
): Heartbeat {
  return {
    region: node.region,
    node_id: node.nodeId,
    at: new Date(status.at).toISOString(),
    ready: status.ready,
    draining: status.draining,
    queue_depth: status.depth,
    in_flight: status.inFlight,
    capacity: status.batching.maxBatch,
    throughput_per_s: status.throughputPerS,
    warm_models: status.warmModels,
    failure_rate: status.failureRate,
    execution_provider: status.executionProvider,
    oldest_job_age_ms: status.oldestJobAgeMs,
    backlog_per_instance: status.backlogPerInstance,
    service_ms_per_image: status.serviceMsPerImage,
    ...(status.estimatedWaitMs && { estimated_wait_ms: status.estimatedWaitMs }),
    recent_jobs: status.recentJobs,
    recent_failures: status.recentFailures,
    max_batch_delay_ms: status.batching.maxBatchDelayMs,
  };
}
