import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ModelPoolEvents } from "../models/model-pool-events.ts";
import type { SchedulerObserver } from "../scheduler/scheduler-observer.ts";
import type { NodeStatus } from "./node-status.ts";
import { processRegistry } from "./process-registry.ts";
import { SCALING_SIGNALS } from "./scaling-signals.ts";

// The node's Prometheus metrics, served at GET /metrics. Gauges of the node's state (queue, backlog,
// readiness) are read from NodeStatus at scrape time; histograms and counters are fed as batches and
// jobs finish (this is the scheduler's observer) and as the model pool loads and evicts models.
// One registry per node, so several nodes in one process (tests, `npm start`) never mix their figures.

const LANES = ["fast", "standard", "relax"] as const;

/** 1 ms .. ~33 s, for inference and model loads. */
const SECONDS_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
const QUEUE_WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const BATCH_SIZE_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64];

export interface NodeMetricsOptions {
  region: string;
  nodeId: string;
  /** The node's state at scrape time. */
  status: () => Promise<NodeStatus>;
  /** Include the process's CPU, memory, GC and event-loop metrics (once per process). */
  processMetrics?: boolean;
}

export class NodeMetrics implements SchedulerObserver {
  readonly registry = new Registry();
  private readonly opts: NodeMetricsOptions;
  private readonly batchSize: Histogram<"model">;
  private readonly inference: Histogram<"model">;
  private readonly queueWait: Histogram<"lane">;
  private readonly stage: Histogram<"stage">;
  private readonly images: Counter<"model">;
  private readonly blocked: Counter<"category">;
  private readonly failures: Counter<"code">;
  private readonly intake: Counter<"outcome">;
  private readonly cancels: Counter<"reason" | "state">;
  private readonly modelLoad: Histogram<"tier">;
  private readonly modelEvictions: Counter<"tier">;
  private readonly modelProblems: Counter<"kind">;
  private poolEvents: ModelPoolEvents | null = null;

  constructor(opts: NodeMetricsOptions) {
    this.opts = opts;
    const registers = [this.registry];
    this.registry.setDefaultLabels({ region: opts.region, node_id: opts.nodeId });

    this.batchSize = new Histogram({
      name: "genart_batch_size",
      help: "Jobs per session.run",
      labelNames: ["model"],
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.inference = new Histogram({
      name: "genart_inference_seconds",
      help: "Wall time of one batch through the pipeline (pre-processing, session.run, split)",
      labelNames: ["model"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.queueWait = new Histogram({
      name: "genart_queue_wait_seconds",
      help: "From acceptance to the start of the job's batch",
      labelNames: ["lane"],
      buckets: QUEUE_WAIT_BUCKETS,
      registers,
    });
    this.stage = new Histogram({
      name: "genart_output_stage_seconds",
      help: "Per-image time of the stages after inference: encode, moderation, upload",
      labelNames: ["stage"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.images = new Counter({
      name: "genart_images_total",
      help: "Images produced and stored",
      labelNames: ["model"],
      registers,
    });
    this.blocked = new Counter({
      name: "genart_outputs_blocked_total",
      help: "Outputs blocked by output moderation, by category",
      labelNames: ["category"],
      registers,
    });
    this.failures = new Counter({
      name: "genart_job_failures_total",
      help: "Jobs reported failed, by failure code",
      labelNames: ["code"],
      registers,
    });
    this.intake = new Counter({
      name: "genart_intake_requests_total",
      help: "Job submissions by outcome (accepted, queue_full, unavailable, rejected)",
      labelNames: ["outcome"],
      registers,
    });
    this.cancels = new Counter({
      name: "genart_job_cancels_total",
      help: "Jobs the edge dropped, by why (canceled by the client; lease_expired: the edge gave up on this node and redispatched the job; superseded: another attempt finished first) and what the node found (canceled, running, finished, unknown)",
      labelNames: ["reason", "state"],
      registers,
    });
    this.modelLoad = new Histogram({
      name: "genart_model_load_seconds",
      help: "Time to make a model hot, by the tier it came from (hot, disk, store)",
      labelNames: ["tier"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.modelEvictions = new Counter({
      name: "genart_model_evictions_total",
      help: "Model versions evicted, by tier (memory, disk)",
      labelNames: ["tier"],
      registers,
    });
    this.modelProblems = new Counter({
      name: "genart_model_problems_total",
      help: "Corrupt model files detected, and model loads that failed",
      labelNames: ["kind"],
      registers,
    });
    this.stateGauges(registers);
  }

  // SchedulerObserver
  batchRan(batch: Parameters<SchedulerObserver["batchRan"]>[0]): void {
    this.batchSize.observe({ model: batch.model }, batch.size);
    this.inference.observe({ model: batch.model }, batch.inferenceMs / 1000);
  }

  jobSucceeded(job: Parameters<SchedulerObserver["jobSucceeded"]>[0]): void {
    this.images.inc({ model: job.model });
    this.outputStages(job);
  }

  jobBlocked(job: Parameters<NonNullable<SchedulerObserver["jobBlocked"]>>[0]): void {
    for (const category of job.categories) this.blocked.inc({ category });
    this.outputStages(job);
  }

  jobFailed(job: Parameters<SchedulerObserver["jobFailed"]>[0]): void {
    this.failures.inc({ code: job.code });
  }

  /** One job submission, by its HTTP answer. */
  intakeAnswered(status: number): void {
    const outcome =
      status === 202
        ? "accepted"
        : status === 429
          ? "queue_full"
          : status === 503
            ? "unavailable"
            : "rejected";
    this.intake.inc({ outcome });
  }

  jobCanceled(reason: string, state: string): void {
    this.cancels.inc({ reason, state });
  }

  /** Subscribes to the model pool's load / evict / corrupt / failure events. */
  watchModelPool(events: ModelPoolEvents): void {
    this.poolEvents = events;
    events.on("load", (e) => this.modelLoad.observe({ tier: e.tier }, e.seconds));
    events.on("evict", (e) => this.modelEvictions.inc({ tier: e.tier }));
    events.on("corrupt", () => this.modelProblems.inc({ kind: "corrupt_file" }));
    events.on("failure", () => this.modelProblems.inc({ kind: "load_failed" }));
  }

  /** A model load measured outside the pool's events (e.g. the warm set before the pool had any). */
  modelLoaded(tier: string, seconds: number): void {
    this.modelLoad.observe({ tier }, seconds);
  }

  /** The text exposition format, with the process's metrics when enabled. */
  async render(): Promise<{ contentType: string; body: string }> {
    let body = await this.registry.metrics();
    if (this.opts.processMetrics) body += await processRegistry().metrics();
    return { contentType: this.registry.contentType, body };
  }

  private outputStages(job: Parameters<SchedulerObserver["jobSucceeded"]>[0]): void {
    this.queueWait.observe({ lane: job.lane }, job.queueMs / 1000);
    this.stage.observe({ stage: "encode" }, job.encodeMs / 1000);
    this.stage.observe({ stage: "upload" }, job.uploadMs / 1000);
    if (job.moderationMs !== undefined) {
      this.stage.observe({ stage: "moderation" }, job.moderationMs / 1000);
    }
  }

  /** Gauges set from one status reading per scrape. */
  private stateGauges(registers: Registry[]): void {
    const status = () => this.opts.status();
    const gauge = (name: string, help: string, read: (s: NodeStatus) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(read(await status()));
        },
      });
    new Gauge({
      name: "genart_queue_depth",
      help: "Queued jobs by lane",
      labelNames: ["lane"],
      registers,
      async collect() {
        const { depth } = await status();
        for (const lane of LANES) this.set({ lane }, depth[lane]);
      },
    });
    gauge("genart_jobs_in_flight", "Jobs in the batch running now", (s) => s.inFlight);
    // The autoscaling signals, as the node also publishes them to CloudWatch.
    for (const signal of SCALING_SIGNALS) gauge(signal.prometheusName, signal.help, signal.read);
    gauge("genart_queue_nodes", "Nodes taking jobs from this node's queue", (s) => s.activeNodes);
    gauge("genart_node_ready", "1 while the node accepts jobs", (s) => (s.ready ? 1 : 0));
    gauge("genart_node_draining", "1 while the node drains", (s) => (s.draining ? 1 : 0));
    gauge(
      "genart_throughput_jobs_per_second",
      "Jobs finished per second (EWMA)",
      (s) => s.throughputPerS,
    );
    gauge(
      "genart_service_seconds_per_image",
      "Service time per image (EWMA over batches); 0 before the first batch",
      (s) => (s.serviceMsPerImage ?? 0) / 1000,
    );
    gauge(
      "genart_recent_failure_ratio",
      "Share of jobs in the last minute that failed",
      (s) => s.failureRate,
    );
    gauge("genart_max_batch_size", "Most jobs in one batch", (s) => s.batching.maxBatch);
    gauge(
      "genart_max_batch_delay_seconds",
      "Longest a job waits for batch-mates",
      (s) => s.batching.maxBatchDelayMs / 1000,
    );
    const pool = () => this.poolEvents;
    new Gauge({
      name: "genart_model_cache_hit_ratio",
      help: "Share of model acquires served by the hot tier, and of the rest by the disk tier",
      labelNames: ["tier"],
      registers,
      collect() {
        const ratios = pool()?.hitRatios();
        if (ratios?.hot != null) this.set({ tier: "hot" }, ratios.hot);
        if (ratios?.disk != null) this.set({ tier: "disk" }, ratios.disk);
      },
    });
  }
}
