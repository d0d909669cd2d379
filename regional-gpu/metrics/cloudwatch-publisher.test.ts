import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../log.ts";
import {
  startCloudWatchRecorder,
  type CloudWatchRecorder,
} from "../testing/cloudwatch-recorder.ts";
import {
  REDIS_MISSING,
  redisServerInstalled,
  startRedisServer,
  type RedisServer,
} from "../testing/redis-server.ts";
import { statusOf } from "../testing/status-of.ts";
import { ScalingMetricsPublisher } from "./cloudwatch-publisher.ts";
import type { NodeStatus } from "./node-status.ts";
import { EVERY_NODE, RedisPublisherLease, type PublisherLease } from "./publisher-lease.ts";

// The publisher against a loopback endpoint that records what the real CloudWatch client sends
// (serialisation, signing and retries are the SDK's own), and, for the one-publisher-per-region
// rule, against a real redis-server.

const GROUPS = ["genart-test-eu-west-base", "genart-test-eu-west-burst"];
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

let recorder: CloudWatchRecorder;
let lines: string[];

beforeEach(async () => {
  recorder = await startCloudWatchRecorder();
  lines = [];
});
afterEach(() => recorder.close());

function publisher(over: {
  lease?: PublisherLease;
  status?: () => Promise<NodeStatus>;
  clock: { now: number };
}) {
  return new ScalingMetricsPublisher({
    namespace: "GenArt/Region",
    groups: GROUPS,
    sampleMs: 15_000,
    status: over.status ?? (async () => statusOf({ backlogPerInstance: 3, oldestJobAgeMs: 9_000 })),
    lease: over.lease ?? EVERY_NODE,
    client: recorder.client(),
    logger: createLogger({ level: "debug", write: (l) => lines.push(l) }),
    now: () => over.clock.now,
  });
}

/** Samples at the middle of each 15-s slot, as the timer does, from `from` for `slots` slots. */
async function run(
  p: ScalingMetricsPublisher,
  clock: { now: number },
  from: number,
  slots: number,
) {
  for (let i = 0; i < slots; i++) {
    clock.now = from + 7_500 + i * 15_000;
    await p.tick();
  }
}

const metricData = (i: number) =>
  recorder.calls[i]!.body.MetricData as Array<Record<string, unknown>>;

describe("ScalingMetricsPublisher -> CloudWatch", () => {
  it("sends one signed PutMetricData per 60-s period with every signal, group and sample", async () => {
    const clock = { now: T0 };
    let backlog = 1;
    const p = publisher({
      clock,
      status: async () => statusOf({ backlogPerInstance: backlog++, oldestJobAgeMs: 4_000 }),
    });
    await run(p, clock, T0, 4);
    // Nothing goes out before the period is over.
    expect(recorder.calls).toHaveLength(0);
    await run(p, clock, T0 + 60_000, 1);
    expect(recorder.calls).toHaveLength(1);

    const call = recorder.calls[0]!;
    expect(call.operation).toBe("PutMetricData");
    expect(call.headers["x-amz-target"]).toBe("GraniteServiceVersion20100801.PutMetricData");
    expect(call.headers["content-type"]).toBe("application/x-amz-json-1.0");
    expect(call.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDRECORDER\/\d{8}\/us-east-1\/monitoring\/aws4_request/,
    );
    expect(call.body.Namespace).toBe("GenArt/Region");
    const data = metricData(0);
    expect(data.map((d) => d.MetricName)).toEqual([
      "BacklogPerInstance",
      "BacklogPerInstance",
      "OldestJobAgeSeconds",
      "OldestJobAgeSeconds",
      "WarmModels",
      "WarmModels",
    ]);
    for (const d of data) expect((d.Dimensions as unknown[]).length).toBe(1);
    expect(data.map((d) => (d.Dimensions as Array<{ Value: string }>)[0]!.Value)).toEqual([
      ...GROUPS,
      ...GROUPS,
      ...GROUPS,
    ]);
    expect(data[0]).toMatchObject({
      Dimensions: [{ Name: "AutoScalingGroupName", Value: GROUPS[0] }],
      Values: [1, 2, 3, 4],
      Counts: [1, 1, 1, 1],
      Unit: "Count",
      StorageResolution: 60,
    });
    expect(data[2]).toMatchObject({ Values: [4], Counts: [4], Unit: "Seconds" });
    // Epoch seconds, inside the period the samples describe.
    expect(data[0]!.Timestamp).toBe((T0 + 30_000) / 1000);
    await p.stop();
  });

  it("takes no sample while the node is not serving, and sends what it has when it stops", async () => {
    const clock = { now: T0 };
    let ready = false;
    const p = publisher({ clock, status: async () => statusOf({ ready, backlogPerInstance: 5 }) });
    await run(p, clock, T0, 2);
    ready = true;
    await run(p, clock, T0 + 30_000, 1);
    await p.stop();
    expect(recorder.calls).toHaveLength(1);
    expect(metricData(0)[0]).toMatchObject({
      MetricName: "BacklogPerInstance",
      Values: [5],
      Counts: [1],
    });
    // Stopped: no more samples or sends.
    await run(p, clock, T0 + 120_000, 2);
    expect(recorder.calls).toHaveLength(1);
  });

  it("logs a failing CloudWatch once, never throws, and says when it works again", async () => {
    const clock = { now: T0 };
    const p = publisher({ clock });
    recorder.failNext(4); // both attempts of two periods
    await run(p, clock, T0, 4);
    await run(p, clock, T0 + 60_000, 4);
    await run(p, clock, T0 + 120_000, 4);
    await run(p, clock, T0 + 180_000, 1);
    const failing = lines.filter((l) => l.includes("scaling metrics failing"));
    expect(failing).toHaveLength(1);
    expect(failing[0]).toContain("PutMetricData");
    expect(lines.some((l) => l.includes("scaling metrics working again"))).toBe(true);
    // The third period went through.
    expect(recorder.calls).toHaveLength(1);
    expect(metricData(0)[0]!.Timestamp).toBe((T0 + 150_000) / 1000);
    await p.stop();
  });
});

const installed = redisServerInstalled();
if (!installed) console.warn(`cloudwatch-publisher.test.ts: ${REDIS_MISSING}`);

describe.skipIf(!installed)("one publisher of region-wide figures per region", () => {
  let redis: RedisServer;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });

  const connect = () => {
    const client = new Redis(redis.url);
    clients.push(client);
    return client;
  };
  const lease = (nodeId: string, key = "{genart:eu-west}:metrics-publisher", ttlMs = 45_000) =>
    new RedisPublisherLease({ redis: connect(), key, nodeId, ttlMs });

  const regionWideSenders = () =>
    recorder.calls.filter((c) =>
      (c.body.MetricData as Array<{ MetricName: string }>).some(
        (d) => d.MetricName === "BacklogPerInstance",
      ),
    ).length;

  it("sends the backlog from the lease holder only; every node sends its warm models", async () => {
    const clock = { now: T0 };
    const a = publisher({ clock, lease: lease("node-a") });
    const b = publisher({ clock, lease: lease("node-b") });
    for (let i = 0; i < 5; i++) {
      clock.now = T0 + 7_500 + i * 15_000;
      await a.tick();
      await b.tick();
    }
    expect(recorder.calls).toHaveLength(2);
    expect(regionWideSenders()).toBe(1);
    expect(recorder.calls.map((c) => (c.body.MetricData as unknown[]).length).sort()).toEqual([
      2, 6,
    ]);

    // The holder drains: it sends its partial period and hands the lease over at once.
    clock.now = T0 + 90_000;
    await a.stop();
    expect(regionWideSenders()).toBe(2);
    recorder.calls.length = 0;
    for (let i = 0; i < 4; i++) {
      clock.now = T0 + 97_500 + i * 15_000;
      await b.tick();
    }
    expect(recorder.calls).toHaveLength(1);
    expect(regionWideSenders()).toBe(1);
    await b.stop();
  });

  it("is taken over when its holder dies without a goodbye, once the lease expires", async () => {
    const dead = lease("dead", "{genart:ap-southeast}:metrics-publisher", 300);
    expect(await dead.hold()).toBe(true);
    const live = lease("live", "{genart:ap-southeast}:metrics-publisher", 300);
    expect(await live.hold()).toBe(false);
    await expect.poll(() => live.hold(), { timeout: 2_000, interval: 50 }).toBe(true);
    // The old holder's renewal no longer takes it back.
    expect(await dead.hold()).toBe(false);
  });
});
