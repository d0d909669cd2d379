import type { NodeStatus } from "./node-status.ts";

// The figures the GPU fleet scales on, defined once for both places they are read: CloudWatch (the
// Auto Scaling policies and alarms of terraform/modules/gpu-region) and /metrics (Prometheus, KEDA).
// - region: the same on every node of a region that shares one queue (jobs queued or running over
//   the nodes taking from it; the oldest waiting job), so one node per region publishes them;
// - node: this node's own state, published by every node (CloudWatch's Minimum across them is the
//   least ready node).

export type SignalScope = "region" | "node";

export interface ScalingSignal {
  /** CloudWatch metric name, as the Terraform policies and alarms name it. */
  metricName: string;
  unit: "Count" | "Seconds";
  scope: SignalScope;
  /** The same figure on /metrics. */
  prometheusName: string;
  help: string;
  read(status: NodeStatus): number;
}

export const SCALING_SIGNALS: readonly ScalingSignal[] = [
  {
    metricName: "BacklogPerInstance",
    unit: "Count",
    scope: "region",
    prometheusName: "genart_backlog_per_instance",
    help: "Jobs queued or running per node taking jobs from the queue",
    read: (s) => s.backlogPerInstance,
  },
  {
    metricName: "OldestJobAgeSeconds",
    unit: "Seconds",
    scope: "region",
    prometheusName: "genart_oldest_job_age_seconds",
    help: "Age of the oldest queued job",
    read: (s) => s.oldestJobAgeMs / 1000,
  },
  {
    metricName: "WarmModels",
    unit: "Count",
    scope: "node",
    prometheusName: "genart_warm_models",
    help: "Model versions loaded and hot on this node",
    read: (s) => s.warmModels.length,
  },
];

/** The dimension every signal carries, and the only one: the Auto Scaling group it scales. */
export const SCALING_DIMENSION = "AutoScalingGroupName";

/** The period of the policies' alarms (terraform/modules/gpu-region: scaling.tf, alarms.tf). */
export const SCALING_PERIOD_MS = 60_000;
