import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { ModelPoolEvents } from "../models/model-pool-events.ts";
import { countIntake, metricsHandler } from "../http/metrics-route.ts";
import { BatchPolicy } from "../scheduler/batch-policy.ts";
import { parsePrometheusText, sampleValue } from "../testing/prometheus-text.ts";
import { NodeMetrics } from "./node-metrics.ts";
import type { NodeStatus } from "./node-status.ts";

const status: NodeStatus = {
  at: 0,
  ready: true,
  draining: false,
  depth: { fast: 1, standard: 5, relax: 2 },
  queued: 8,
  inFlight: 4,
  oldestJobAgeMs: 2_500,
  activeNodes: 2,
  activeJobs: 2,
  backlogPerInstance: 4,
  throughputPerS: 12.5,
  serviceMsPerImage: 80,
  estimatedWaitMs: { fast: 400, standard: 800, relax: 960 },
  failureRate: 0.1,
  recentJobs: 30,
  recentFailures: { inference_failed: 3 },
  warmModels: ["cppn-glove@1"],
  executionProvider: "cpu",
  batching: new BatchPolicy({ maxBatch: 8, maxBatchDelayMs: 10 }),
};

async function scrape(metrics: NodeMetrics) {
  const { body, contentType } = await metrics.render();
  expect(contentType).toContain("text/plain");
  return parsePrometheusText(body);
}

describe("NodeMetrics", () => {
  it("exposes the node's state, read at scrape time, labelled with region and node", async () => {
    const metrics = new NodeMetrics({
      region: "eu-west",
      nodeId: "n1",
      status: async () => status,
    });
    const samples = await scrape(metrics);
    const value = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(samples, name, { region: "eu-west", node_id: "n1", ...labels });
    expect(value("genart_queue_depth", { lane: "fast" })).toBe(1);
    expect(value("genart_queue_depth", { lane: "standard" })).toBe(5);
    expect(value("genart_queue_depth", { lane: "relax" })).toBe(2);
    expect(value("genart_jobs_in_flight")).toBe(4);
    expect(value("genart_backlog_per_instance")).toBe(4);
    expect(value("genart_oldest_job_age_seconds")).toBe(2.5);
    expect(value("genart_queue_nodes")).toBe(2);
    expect(value("genart_node_ready")).toBe(1);
    expect(value("genart_node_draining")).toBe(0);
    expect(value("genart_throughput_jobs_per_second")).toBe(12.5);
    expect(value("genart_service_seconds_per_image")).toBe(0.08);
    expect(value("genart_recent_failure_ratio")).toBe(0.1);
    expect(value("genart_max_batch_size")).toBe(8);
    expect(value("genart_max_batch_delay_seconds")).toBe(0.01);
    // No process metrics unless asked (they are per process, not per node).
    expect(samples.some((s) => s.name.startsWith("genart_process_"))).toBe(false);
  });

  it("counts batches, images, stage times, failures and blocked outputs as the scheduler reports", async () => {
    const metrics = new NodeMetrics({
      region: "eu-west",
      nodeId: "n1",
      status: async () => status,
    });
    const model = "cppn-glove@1";
    metrics.batchRan({
      model,
      size: 3,
      executionProvider: "cpu",
      inferenceMs: 120,
      sessionMs: 110,
    });
    metrics.batchRan({ model, size: 1, executionProvider: "cpu", inferenceMs: 40, sessionMs: 35 });
    const done = { model, lane: "fast" as const, queueMs: 20, encodeMs: 4, uploadMs: 1 };
    metrics.jobSucceeded(done);
    metrics.jobSucceeded({ ...done, moderationMs: 50 });
    metrics.jobBlocked({ ...done, moderationMs: 60, categories: ["porn", "sexy"] });
    metrics.jobFailed({ model, lane: "relax", code: "upload_failed" });
    metrics.jobFailed({ model, lane: "relax", code: "upload_failed" });
    const samples = await scrape(metrics);
    const value = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(samples, name, labels);
    expect(value("genart_batch_size_count", { model })).toBe(2);
    expect(value("genart_batch_size_sum", { model })).toBe(4);
    expect(value("genart_batch_size_bucket", { model, le: "1" })).toBe(1);
    expect(value("genart_batch_size_bucket", { model, le: "3" })).toBe(2);
    expect(value("genart_inference_seconds_sum", { model })).toBeCloseTo(0.16);
    expect(value("genart_images_total", { model })).toBe(2);
    expect(value("genart_outputs_blocked_total", { category: "porn" })).toBe(1);
    expect(value("genart_job_failures_total", { code: "upload_failed" })).toBe(2);
    expect(value("genart_queue_wait_seconds_count", { lane: "fast" })).toBe(3);
    expect(value("genart_output_stage_seconds_count", { stage: "encode" })).toBe(3);
    expect(value("genart_output_stage_seconds_count", { stage: "moderation" })).toBe(2);
    expect(value("genart_output_stage_seconds_sum", { stage: "moderation" })).toBeCloseTo(0.11);
  });

  it("follows the model pool's loads, evictions and problems, with hit ratios", async () => {
    const metrics = new NodeMetrics({
      region: "eu-west",
      nodeId: "n1",
      status: async () => status,
    });
    const events = new ModelPoolEvents();
    metrics.watchModelPool(events);
    events.emit("load", { ref: "m@1", tier: "store", seconds: 0.8 });
    events.emit("load", { ref: "m@2", tier: "disk", seconds: 0.2 });
    events.emit("load", { ref: "m@1", tier: "hot", seconds: 0.0001 });
    events.emit("load", { ref: "m@1", tier: "hot", seconds: 0.0001 });
    events.emit("evict", { ref: "m@2", tier: "memory", bytes: 1 });
    events.emit("corrupt", { ref: "m@3", file: "model.onnx", detail: "sha256" });
    const samples = await scrape(metrics);
    const value = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(samples, name, labels);
    expect(value("genart_model_load_seconds_count", { tier: "store" })).toBe(1);
    expect(value("genart_model_load_seconds_sum", { tier: "disk" })).toBeCloseTo(0.2);
    expect(value("genart_model_load_seconds_count", { tier: "hot" })).toBe(2);
    expect(value("genart_model_cache_hit_ratio", { tier: "hot" })).toBe(0.5);
    expect(value("genart_model_cache_hit_ratio", { tier: "disk" })).toBe(0.5);
    expect(value("genart_model_evictions_total", { tier: "memory" })).toBe(1);
    expect(value("genart_model_problems_total", { kind: "corrupt_file" })).toBe(1);
  });

  it("is served at /metrics and counts job submissions by answer", async () => {
    const metrics = new NodeMetrics({
      region: "eu-west",
      nodeId: "n1",
      status: async () => status,
      processMetrics: true,
    });
    const app = new Hono();
    app.use("/v1/jobs", countIntake(metrics));
    const answers = [202, 202, 429, 503, 400];
    let next = 0;
    app.post("/v1/jobs", (c) => c.body(null, answers[next++] as 202));
    app.get("/metrics", metricsHandler(metrics));
    for (let i = 0; i < answers.length; i++) await app.request("/v1/jobs", { method: "POST" });
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const samples = parsePrometheusText(await res.text());
    const intake = (outcome: string) =>
      sampleValue(samples, "genart_intake_requests_total", { outcome });
    expect([intake("accepted"), intake("queue_full"), intake("unavailable")]).toEqual([2, 1, 1]);
    expect(intake("rejected")).toBe(1);
    expect(samples.some((s) => s.name === "genart_process_resident_memory_bytes")).toBe(true);
  });
});
