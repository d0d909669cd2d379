import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OutputModerator } from "../moderation/output-moderator.ts";
import { startRegion } from "../region.ts";
import {
  startCloudWatchRecorder,
  type CloudWatchRecorder,
} from "../testing/cloudwatch-recorder.ts";
import { passEverything } from "../testing/classifiers.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { testKey } from "../testing/signed-client.ts";

// A whole node with METRICS_NAMESPACE set sends its scaling signals to CloudWatch (here a loopback
// recorder behind the real SDK client) while it serves, and sends what it has when it drains.

let model: TestModel;
let dir: string;
let recorder: CloudWatchRecorder;

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "scaling-metrics-"));
  recorder = await startCloudWatchRecorder();
});
afterAll(async () => {
  await recorder?.close();
  await rm(dir, { recursive: true, force: true });
});

const pass = passEverything();

it("publishes BacklogPerInstance, OldestJobAgeSeconds and WarmModels per group, and stops at drain", async () => {
  const groups = ["genart-test-sa-east-base", "genart-test-sa-east-burst"];
  const region = await startRegion(
    {
      regionName: "sa-east",
      nodeId: "node-a",
      port: 0,
      signingKey: testKey("scaling-metrics-test-secret-0123456789"),
      modelDir: model.modelsDir,
      warmModels: [model.ref],
      objectStore: { kind: "file", dir: join(dir, "objects") },
      executionProvider: "cpu",
      logLevel: "silent",
      metricsNamespace: "GenArt/Test",
      scalingGroupNames: groups,
      metricsSampleMs: 1_000,
    },
    { moderator: new OutputModerator({ screen: pass }), cloudWatch: recorder.client() },
  );
  // At least one sample (one per second, at the middle of each second).
  await new Promise((r) => setTimeout(r, 1_600));
  await region.close();
  const sent = recorder.calls.flatMap((c) => {
    expect(c.operation).toBe("PutMetricData");
    expect(c.body.Namespace).toBe("GenArt/Test");
    return c.body.MetricData as Array<{
      MetricName: string;
      Dimensions: Array<{ Value: string }>;
      Values: number[];
    }>;
  });
  const names = new Set(sent.map((d) => `${d.MetricName}@${d.Dimensions[0]!.Value}`));
  for (const metric of ["BacklogPerInstance", "OldestJobAgeSeconds", "WarmModels"]) {
    for (const group of groups) expect(names).toContain(`${metric}@${group}`);
  }
  expect(sent.find((d) => d.MetricName === "WarmModels")!.Values).toEqual([1]);
  // Drained: nothing more is sent.
  const after = recorder.calls.length;
  await new Promise((r) => setTimeout(r, 1_200));
  expect(recorder.calls.length).toBe(after);
});
