import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configFromEnv } from "../config.ts";
import { statusOf } from "../testing/status-of.ts";
import { addSample, datumsOf, emptyPeriod, putRequests } from "./cloudwatch-datums.ts";
import { NodeMetrics } from "./node-metrics.ts";
import { SCALING_DIMENSION, SCALING_PERIOD_MS, SCALING_SIGNALS } from "./scaling-signals.ts";

// The nodes and the Terraform module must agree on every name the autoscaling loop depends on: a
// typo in either would leave the groups scaling on a metric nobody publishes. This test reads the
// module's files (no terraform binary needed) and holds the publisher to what they say.

const MODULE = new URL("../../terraform/modules/gpu-region/", import.meta.url);
const read = (file: string) => readFileSync(new URL(file, MODULE), "utf8");

/** The body of the first block whose header matches `header` (braces balanced). */
function block(text: string, header: RegExp): string {
  const match = header.exec(text);
  if (!match) throw new Error(`no block ${header}`);
  let depth = 0;
  const open = text.indexOf("{", match.index + match[0].length - 1);
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`unbalanced block ${header}`);
}

const attr = (body: string, name: string) =>
  new RegExp(`^\\s*${name}\\s*=\\s*(.+?)\\s*$`, "m").exec(body)?.[1] ?? null;
const all = (body: string, name: string) =>
  [...body.matchAll(new RegExp(`^\\s*${name}\\s*=\\s*(.+?)\\s*$`, "gm"))].map((m) => m[1]!);
const unquote = (s: string | null) => s?.replace(/^"|"$/g, "") ?? null;

const scaling = read("scaling.tf");
const alarms = read("alarms.tf");
const variables = read("variables.tf");
const main = read("main.tf");

const backlogPolicy = block(scaling, /resource "aws_autoscaling_policy" "backlog" \{/);
const ageAlarm = block(scaling, /resource "aws_cloudwatch_metric_alarm" "oldest_job_age" \{/);
/** Alarms in alarms.tf on the node's namespace: metric name -> statistic. */
const nodeAlarms = new Map(
  [...alarms.matchAll(/^\s*([a-z-]+) = \{\n([\s\S]*?)^\s*\}$/gm)]
    .map((m) => m[2]!)
    .filter((body) => attr(body, "namespace") === "var.metrics_namespace")
    .map((body) => [unquote(attr(body, "metric"))!, unquote(attr(body, "statistic"))!]),
);

const namespaceDefault = unquote(
  attr(block(variables, /variable "metrics_namespace" \{/), "default"),
)!;

describe("scaling signals: the nodes publish what Terraform scales on", () => {
  it("uses the metric names of the module's policies and alarms, and no others", () => {
    const policyMetric = unquote(
      attr(block(backlogPolicy, /customized_metric_specification \{/), "metric_name"),
    );
    const ageMetric = unquote(attr(ageAlarm, "metric_name"));
    const inTerraform = new Set([policyMetric, ageMetric, ...nodeAlarms.keys()]);
    expect([...inTerraform].sort()).toEqual(SCALING_SIGNALS.map((s) => s.metricName).sort());
  });

  it("reads them from the namespace variable, with AutoScalingGroupName as the only dimension", () => {
    expect(attr(block(backlogPolicy, /customized_metric_specification \{/), "namespace")).toBe(
      "var.metrics_namespace",
    );
    expect(attr(ageAlarm, "namespace")).toBe("var.metrics_namespace");
    const dimension = block(backlogPolicy, /metric_dimension \{/);
    expect(unquote(attr(dimension, "name"))).toBe(SCALING_DIMENSION);
    expect(all(backlogPolicy, "name").filter((n) => n === `"${SCALING_DIMENSION}"`)).toHaveLength(
      1,
    );
    expect(attr(ageAlarm, "dimensions")).toMatch(
      new RegExp(`^\\{ ${SCALING_DIMENSION} = [^,]+ \\}$`),
    );
    for (const body of alarms.matchAll(
      /namespace\s+= var\.metrics_namespace[\s\S]*?dimensions\s+= (.+)/g,
    )) {
      expect(body[1]).toMatch(new RegExp(`^\\{ ${SCALING_DIMENSION} = [^,]+ \\}$`));
    }
  });

  it("matches each signal's scope to the statistic Terraform reads", () => {
    // Region-wide figures come from one publisher (any statistic reads them); a per-node figure is
    // only meaningful through a statistic across nodes.
    expect(
      unquote(attr(block(backlogPolicy, /customized_metric_specification \{/), "statistic")),
    ).toBe("Average");
    expect(unquote(attr(ageAlarm, "statistic"))).toBe("Maximum");
    for (const signal of SCALING_SIGNALS.filter((s) => s.scope === "node")) {
      expect(["Minimum", "Maximum", "SampleCount"]).toContain(nodeAlarms.get(signal.metricName));
    }
  });

  it("samples within the policies' period and sends one datum set per period", () => {
    const period = "local.metric_period_seconds";
    expect(Number(attr(scaling, "metric_period_seconds"))).toBe(SCALING_PERIOD_MS / 1000);
    expect(attr(ageAlarm, "period")).toBe(period);
    expect(attr(block(alarms, /resource "aws_cloudwatch_metric_alarm" "this" \{/), "period")).toBe(
      period,
    );
    const env = {
      REGION_NAME: "eu-west",
      REGION_SIGNING_KEY: `k1:${"x".repeat(32)}`,
      EDGE_URL: "https://api.genart.example",
    };
    const { metricsSampleMs } = configFromEnv(env);
    expect(SCALING_PERIOD_MS % metricsSampleMs).toBe(0);
    expect(SCALING_PERIOD_MS / metricsSampleMs).toBeGreaterThanOrEqual(2);
  });

  it("takes the namespace and groups from the variables the module sets on the node", () => {
    const environment = block(main, /environment = merge\(var\.extra_environment, \{/);
    expect(attr(environment, "METRICS_NAMESPACE")).toBe("var.metrics_namespace");
    expect(attr(environment, "SCALING_GROUP_NAMES")).toMatch(
      /^join\(",", \[for g in local\.groups : g\.name\]\)$/,
    );
    const groups = ["genart-prod-eu-west-base", "genart-prod-eu-west-burst"];
    const config = configFromEnv({
      REGION_NAME: "eu-west",
      REGION_SIGNING_KEY: `k1:${"x".repeat(32)}`,
      EDGE_URL: "https://api.genart.example",
      METRICS_NAMESPACE: namespaceDefault,
      SCALING_GROUP_NAMES: groups.join(","),
    });
    const period = emptyPeriod(0);
    addSample(period, statusOf({}));
    const [request] = putRequests(
      config.metricsNamespace!,
      datumsOf(period, {
        periodMs: SCALING_PERIOD_MS,
        groups: config.scalingGroupNames!,
        scopes: new Set(["region", "node"]),
      }),
    );
    expect(request!.Namespace).toBe("GenArt/Region");
    expect(new Set(request!.MetricData!.map((d) => d.Dimensions![0]!.Value))).toEqual(
      new Set(groups),
    );
    expect(() =>
      configFromEnv({
        REGION_NAME: "eu-west",
        REGION_SIGNING_KEY: `k1:${"x".repeat(32)}`,
        EDGE_URL: "https://api.genart.example",
        METRICS_NAMESPACE: "GenArt/Region",
      }),
    ).toThrow(/SCALING_GROUP_NAMES: is required when METRICS_NAMESPACE is set/);
    expect(() =>
      configFromEnv({
        REGION_NAME: "eu-west",
        REGION_SIGNING_KEY: `k1:${"x".repeat(32)}`,
        EDGE_URL: "https://api.genart.example",
        METRICS_SAMPLE_MS: "7000",
      }),
    ).toThrow(/METRICS_SAMPLE_MS: must divide 60000/);
  });

  it("keeps the same figures on /metrics as in CloudWatch", async () => {
    const status = statusOf({
      backlogPerInstance: 2.5,
      oldestJobAgeMs: 41_000,
      warmModels: ["a@1", "b@1"],
    });
    const metrics = new NodeMetrics({
      region: "eu-west",
      nodeId: "n1",
      status: async () => status,
    });
    const scraped = new Map(
      (await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, m.values[0]?.value]),
    );
    const period = emptyPeriod(0);
    addSample(period, status);
    const datums = datumsOf(period, {
      periodMs: SCALING_PERIOD_MS,
      groups: ["g"],
      scopes: new Set(["region", "node"]),
    });
    for (const signal of SCALING_SIGNALS) {
      const datum = datums.find((d) => d.MetricName === signal.metricName)!;
      expect(scraped.get(signal.prometheusName)).toBe(datum.Values![0]);
    }
    expect(scraped.get("genart_oldest_job_age_seconds")).toBe(41);
    expect(scraped.get("genart_warm_models")).toBe(2);
  });
});
