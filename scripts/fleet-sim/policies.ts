import { distanceRttMs } from "../../edge/routing/network-rtt.ts";
import type { InstanceTypes, ServiceProfile } from "./inputs/profiles.ts";
import type { RegionScalingPolicy } from "./inputs/terraform-policy.ts";
import type { GroupSpec } from "./sim/fleet.ts";
import type { ServiceTimes } from "./sim/service-time.ts";
import type { PolicySpec } from "./sim/simulator.ts";
import { DAY_MS, SHAPES } from "./workload/arrivals.ts";
import type { Metro, SimRegionSite } from "./workload/geography.ts";

// The four policies compared, all built from the Terraform environment's parameters (group sizes,
// instance types, spot share, warm-up, queue bound) so they differ only in how they scale:
// - cpu: the traditional set-up. One group with a mixed instances policy (on-demand up to the base
//   group's minimum, spot above in the burst group's share), target tracking on average CPU, no
//   warm pool (AWS allows none on a mixed group), every launch cold.
// - backlog: the same group tracking queued jobs per instance (AWS's SQS pattern), nothing else.
// - ours: what terraform/modules/gpu-region deploys: base group (on demand, warm pool) and burst
//   group (mixed, spot), both tracking BacklogPerInstance (burst at target x ratio), both stepping on
//   OldestJobAgeSeconds.
// - fixed: on-demand nodes sized for the day's peak in each region, never scaled.

export interface PolicyInputs {
  tf: RegionScalingPolicy;
  /** MAX_QUEUE_DEPTH of the nodes (Terraform leaves it at the node's default). */
  maxQueueDepth: number;
  profile: ServiceProfile;
  types: InstanceTypes;
  service: ServiceTimes;
  /** Fixed fleet per region (fixedFleetSizes). */
  fixedSizes: readonly number[];
}

/**
 * AWS's backlog-per-instance pattern tracks queued messages only, at acceptable latency / time per
 * job: about 5 s / 1.1 GPU-s per image here; 4 is also what terraform/modules/gpu-region shipped
 * with before the simulator showed that queued jobs alone oscillate (see BacklogPerInstance).
 */
export const AWS_PATTERN_TARGET = 4;

/** GPU busy share the CPU baseline's target stands for: its best case (see cpuTargetPercent). */
export const CPU_BASELINE_BUSY = 0.7;

/**
 * The CPU utilisation a node of `type` shows while its GPU is busy `busy` of the time, at batches
 * of 4 reference images: the idle share, the executor thread waiting on the GPU, and the output
 * stage's CPU per image. The baseline tracks this at CPU_BASELINE_BUSY: the target an operator who
 * knew the GPU's figure would pick. At the customary 50% it would never scale out at all: a
 * saturated GPU node shows far less (cpuAtBusy(1) is printed with the results).
 */
export function cpuAtBusy(
  inputs: Pick<PolicyInputs, "profile" | "types" | "service">,
  type: string,
  busy: number,
): number {
  const { cpu } = inputs.profile;
  const vcpus = inputs.types.types[type]!.vcpus;
  const imagesPerS = (busy * 4 * 1000) / inputs.service.referenceMs(4);
  return (
    cpu.idleShare +
    (busy * cpu.executorCores) / vcpus +
    (imagesPerS * cpu.cpuSecondsPerImage) / vcpus
  );
}

export const cpuTargetPercent = (
  inputs: Pick<PolicyInputs, "profile" | "types" | "service">,
  type: string,
) => Math.round(cpuAtBusy(inputs, type, CPU_BASELINE_BUSY) * 1000) / 10;

function singleGroup(inputs: PolicyInputs, scaling: Pick<GroupSpec, "targetTracking">): GroupSpec {
  const { tf } = inputs;
  return {
    role: "fleet",
    minSize: tf.groups.base.min_size,
    maxSize: tf.groups.base.max_size + tf.groups.burst.max_size,
    onDemandBase: tf.groups.base.min_size,
    spotPercentage: tf.burst_mix.spot_percentage,
    instanceTypes: tf.instance_types,
    warmPool: null,
    ageSteps: [],
    ...scaling,
  };
}

export function buildPolicies(inputs: PolicyInputs): PolicySpec[] {
  const { tf } = inputs;
  const common = {
    instanceWarmupMs: tf.instance_warmup_seconds * 1000,
    maxQueueDepth: inputs.maxQueueDepth,
  };
  const steps = tf.oldest_job_age_steps.map((s) => ({
    ageSeconds: s.age_seconds,
    add: s.add_instances,
  }));
  const baseType = tf.instance_types[0]!;
  const ours: GroupSpec[] = [
    {
      role: "base",
      minSize: tf.groups.base.min_size,
      maxSize: tf.groups.base.max_size,
      onDemandBase: 0,
      spotPercentage: 0,
      instanceTypes: [baseType],
      warmPool: {
        state: tf.warm_pool.pool_state,
        minSize: tf.warm_pool.min_size,
        maxPrepared: tf.warm_pool.max_group_prepared_capacity,
        reuseOnScaleIn: tf.warm_pool.reuse_on_scale_in,
      },
      targetTracking: { metric: "backlog", target: tf.groups.base.backlog_target },
      ageSteps: steps,
    },
    {
      role: "burst",
      minSize: tf.groups.burst.min_size,
      maxSize: tf.groups.burst.max_size,
      onDemandBase: tf.burst_mix.on_demand_base_capacity,
      spotPercentage: tf.burst_mix.spot_percentage,
      instanceTypes: tf.instance_types,
      warmPool: null,
      targetTracking: { metric: "backlog", target: tf.groups.burst.backlog_target },
      ageSteps: steps,
    },
  ];
  return [
    {
      name: "cpu",
      label: `CPU target tracking (${cpuTargetPercent(inputs, baseType)}%)`,
      groups: [
        singleGroup(inputs, {
          targetTracking: { metric: "cpu", target: cpuTargetPercent(inputs, baseType) },
        }),
      ],
      ...common,
    },
    {
      name: "backlog",
      label: `queued jobs per instance (${AWS_PATTERN_TARGET}, AWS's SQS pattern)`,
      groups: [
        singleGroup(inputs, { targetTracking: { metric: "queue", target: AWS_PATTERN_TARGET } }),
      ],
      ...common,
    },
    { name: "ours", label: "backlog + warm pool + oldest-age steps", groups: ours, ...common },
    {
      name: "fixed",
      label: "fixed fleet sized for the peak",
      groups: [
        {
          role: "fixed",
          minSize: 0,
          maxSize: Math.max(...inputs.fixedSizes),
          onDemandBase: Infinity,
          spotPercentage: 0,
          instanceTypes: [baseType],
          warmPool: null,
          targetTracking: null,
          ageSteps: [],
          fixedSizes: inputs.fixedSizes,
        },
      ],
      ...common,
    },
  ];
}

/** Mean GPU seconds per image at full batches, over the size mix, on `type`. */
export function gpuSecondsPerImage(service: ServiceTimes, type: string): number {
  const max = service.maxBatch;
  return SHAPES.reduce(
    (s, shape, k) => s + (shape.share * service.batchMs(type, k, max)) / max / 1000,
    0,
  );
}

/**
 * A fixed fleet sized for the day's peak: in each region, its nearest metros' busiest 5 minutes x
 * GPU seconds per image at full batches, at 75% utilisation, and never below the scaled fleets'
 * minimum.
 */
export function fixedFleetSizes(opts: {
  sites: readonly SimRegionSite[];
  metros: readonly Metro[];
  metroRate: (metro: number, atMs: number) => number;
  gpuSecondsPerImage: number;
  minSize: number;
  utilisation?: number;
}): number[] {
  const nearest = opts.metros.map((m) => {
    let best = 0;
    opts.sites.forEach((s, i) => {
      if (distanceRttMs(m, s) < distanceRttMs(m, opts.sites[best]!)) best = i;
    });
    return best;
  });
  const peak = opts.sites.map(() => 0);
  for (let t = 0; t < DAY_MS; t += 300_000) {
    const rate = opts.sites.map(() => 0);
    opts.metros.forEach((_, m) => (rate[nearest[m]!]! += opts.metroRate(m, t + 150_000)));
    rate.forEach((r, i) => (peak[i] = Math.max(peak[i]!, r)));
  }
  return peak.map((r) =>
    Math.max(opts.minSize, Math.ceil((r * opts.gpuSecondsPerImage) / (opts.utilisation ?? 0.75))),
  );
}
