import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { settleWithin } from "../../contracts/settle-within.ts";
import type { RegionNodeConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import type { SharedQueue } from "../queue/shared-queue.ts";
import {
  addSample,
  datumsOf,
  emptyPeriod,
  periodStart,
  putRequests,
  type SignalPeriod,
} from "./cloudwatch-datums.ts";
import type { NodeStatus } from "./node-status.ts";
import { EVERY_NODE, RedisPublisherLease, type PublisherLease } from "./publisher-lease.ts";
import { SCALING_PERIOD_MS, type SignalScope } from "./scaling-signals.ts";

// Sends the scaling signals to CloudWatch, where the Auto Scaling policies of
// terraform/modules/gpu-region read them. A sample every `sampleMs` (aligned to the clock, halfway
// through each slot), one PutMetricData per policy period (60 s) carrying all of the period's
// samples, sent at the first sample of the next period. Region-wide figures only while this node
// holds the region's publisher lease. A serving node only: none while starting, and stop() (at the
// start of a drain) sends what it has and gives the lease up. Failures are logged when they start
// and when they end, never thrown: scaling signals must not take a node down.

export interface ScalingMetricsPublisherOptions {
  namespace: string;
  /** Auto Scaling group names (dimension AutoScalingGroupName). */
  groups: readonly string[];
  sampleMs: number;
  periodMs?: number;
  status: () => Promise<NodeStatus>;
  lease: PublisherLease;
  client: Pick<CloudWatchClient, "send">;
  logger: Logger;
  now?: () => number;
}

const STOP_WITHIN_MS = 3_000;
// An unanswered request must not stall the sampling: CloudWatch answers in milliseconds.
const CLIENT_TIMEOUTS = { requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } };

const NODE_ONLY: ReadonlySet<SignalScope> = new Set(["node"]);
const ALL_SCOPES: ReadonlySet<SignalScope> = new Set(["node", "region"]);

export class ScalingMetricsPublisher {
  private readonly opts: ScalingMetricsPublisherOptions;
  private readonly periodMs: number;
  private readonly now: () => number;
  private period: SignalPeriod | null = null;
  private regionWide = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  /** Steps failing now (each logged once when it starts failing and once when it recovers). */
  private readonly failing = new Set<string>();

  constructor(opts: ScalingMetricsPublisherOptions) {
    this.opts = opts;
    this.periodMs = opts.periodMs ?? SCALING_PERIOD_MS;
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.schedule();
  }

  /** Takes one sample; sends the previous period first when this one has begun. */
  tick(): Promise<void> {
    this.ticking ??= this.sample().finally(() => (this.ticking = null));
    return this.ticking;
  }

  /**
   * Sends the samples taken so far and gives the lease up; no sample after. Bounded: a CloudWatch
   * or Redis that does not answer must not hold up a drain.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const finish = async () => {
      await this.ticking;
      const period = this.period;
      this.period = null;
      if (period) await this.send(period);
      await this.opts.lease.release().catch((err: unknown) => this.problem("lease release", err));
    };
    await settleWithin(finish(), STOP_WITHIN_MS);
  }

  private schedule(): void {
    const { sampleMs } = this.opts;
    const delay = sampleMs - ((this.now() - sampleMs / 2) % sampleMs);
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.stopped || this.schedule());
    }, delay);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    if (this.stopped) return;
    const at = this.now();
    let status: NodeStatus;
    try {
      [status, this.regionWide] = await Promise.all([
        this.opts.status(),
        this.opts.lease.hold().then(
          (held) => (this.recovered("publisher lease"), held),
          (err: unknown) => (this.problem("publisher lease", err), false),
        ),
      ]);
      this.recovered("status read");
    } catch (err) {
      this.problem("status read", err);
      return;
    }
    const start = periodStart(at, this.periodMs);
    if (this.period && this.period.start !== start) {
      const closed = this.period;
      this.period = null;
      await this.send(closed);
    }
    if (!status.ready) return;
    this.period ??= emptyPeriod(start);
    addSample(this.period, status);
  }

  private async send(period: SignalPeriod): Promise<void> {
    const datums = datumsOf(period, {
      periodMs: this.periodMs,
      groups: this.opts.groups,
      scopes: this.regionWide ? ALL_SCOPES : NODE_ONLY,
    });
    try {
      for (const input of putRequests(this.opts.namespace, datums)) {
        await this.opts.client.send(new PutMetricDataCommand(input));
      }
      this.recovered("PutMetricData");
    } catch (err) {
      this.problem("PutMetricData", err);
    }
  }

  private problem(step: string, err: unknown): void {
    if (!this.failing.has(step)) this.opts.logger.warn("scaling metrics failing", { step, err });
    this.failing.add(step);
  }

  private recovered(step: string): void {
    if (this.failing.delete(step)) this.opts.logger.info("scaling metrics working again", { step });
  }
}

export interface PublisherParts {
  config: Pick<
    RegionNodeConfig,
    "metricsNamespace" | "scalingGroupNames" | "metricsSampleMs" | "nodeId"
  >;
  status: () => Promise<NodeStatus>;
  /** The region's shared queue, when there is one: its nodes elect one publisher. */
  shared: Pick<SharedQueue, "redis" | "keys"> | null;
  logger: Logger;
  /** Default: a client from the AWS SDK's default chains (region, instance role). */
  client?: Pick<CloudWatchClient, "send">;
}

/** The node's publisher when METRICS_NAMESPACE is configured, else null. */
export function scalingPublisherFor(parts: PublisherParts): ScalingMetricsPublisher | null {
  const { config, shared } = parts;
  if (!config.metricsNamespace || !config.scalingGroupNames?.length) return null;
  const lease = shared
    ? new RedisPublisherLease({
        redis: shared.redis,
        key: shared.keys.metricsPublisher,
        nodeId: config.nodeId,
        // Three samples unrenewed: a dead publisher is replaced within a period.
        ttlMs: 3 * config.metricsSampleMs,
      })
    : EVERY_NODE;
  return new ScalingMetricsPublisher({
    namespace: config.metricsNamespace,
    groups: config.scalingGroupNames,
    sampleMs: config.metricsSampleMs,
    status: parts.status,
    lease,
    client: parts.client ?? new CloudWatchClient(CLIENT_TIMEOUTS),
    logger: parts.logger.child({ component: "scaling-metrics" }),
  });
}
