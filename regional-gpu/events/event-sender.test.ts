import { testKey } from "../testing/signed-client.ts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REGION_PATHS, type JobEvent } from "../../contracts/region-protocol.ts";
import { createLogger } from "../log.ts";
import { startEdgeStub, type EdgeStub } from "../testing/edge-stub.ts";
import { EventSender } from "./event-sender.ts";

const SECRET = "event-sender-test-secret";
let edge: EdgeStub;
let lines: string[];

const logger = () => createLogger({ level: "debug", write: (l) => lines.push(l) });
const running = (jobId: string): JobEvent => ({
  type: "running",
  job_id: jobId,
  region: "eu-west",
  request_id: `req_${jobId}`,
  at: new Date().toISOString(),
});
const failed = (jobId: string): JobEvent => ({
  ...running(jobId),
  type: "failed",
  error: { code: "inference_failed", message: "boom" },
  retryable: false,
});

beforeEach(async () => {
  lines = [];
  edge = await startEdgeStub(SECRET);
});
afterEach(async () => {
  await edge.close();
});

describe("EventSender", () => {
  it("delivers signed events with the job's request id", async () => {
    const sender = new EventSender({ signingKey: testKey(SECRET), logger: logger() });
    const url = `${edge.url}${REGION_PATHS.events("eu-west")}`;
    expect(await sender.send(url, running("job_a"))).toBe(true);
    expect(edge.received).toHaveLength(1);
    expect(edge.received[0]).toMatchObject({ signatureOk: true, requestId: "req_job_a" });
    expect(edge.events()).toEqual(
      [running("job_a")].map((e) => ({ ...e, at: expect.any(String) })),
    );
  });

  it("posts to its configured edge only, whatever callback a job names", async () => {
    const elsewhere = await startEdgeStub(SECRET);
    try {
      const sender = new EventSender({
        signingKey: testKey(SECRET),
        logger: logger(),
        edge: { url: edge.url, region: "eu-west" },
      });
      const chosenByCaller = `${elsewhere.url}${REGION_PATHS.events("eu-west")}`;
      expect(await sender.send(chosenByCaller, running("job_x"))).toBe(true);
      expect(elsewhere.attempts).toHaveLength(0);
      expect(edge.received.map((r) => r.path)).toEqual([REGION_PATHS.events("eu-west")]);
    } finally {
      await elsewhere.close();
    }
  });

  it("retries through a briefly failing edge and keeps each job's events in order", async () => {
    edge.respond = (_req, i) => (i < 3 ? 503 : 204);
    const sender = new EventSender({
      signingKey: testKey(SECRET),
      logger: logger(),
      baseDelayMs: 5,
    });
    const url = `${edge.url}${REGION_PATHS.events("eu-west")}`;
    const deliveries = [sender.send(url, running("job_b")), sender.send(url, failed("job_b"))];
    expect(await Promise.all(deliveries)).toEqual([true, true]);
    expect(edge.attempts.length).toBe(5);
    expect(edge.events().map((e) => e.type)).toEqual(["running", "failed"]);
    expect(
      lines.some((l) => l.includes("retrying") && l.includes('"request_id":"req_job_b"')),
    ).toBe(true);
  });

  it("retries when nothing listens, and gives up after maxAttempts with a log line", async () => {
    await edge.close();
    const sender = new EventSender({
      signingKey: testKey(SECRET),
      logger: logger(),
      baseDelayMs: 1,
      maxAttempts: 3,
    });
    expect(await sender.send(`${edge.url}/internal/regions/x/events`, running("job_c"))).toBe(
      false,
    );
    const lost = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "job event lost");
    expect(lost).toMatchObject({ level: "error", job_id: "job_c", request_id: "req_job_c" });
    edge = await startEdgeStub(SECRET);
  });

  it("does not retry an event the edge refuses", async () => {
    edge.respond = () => 422;
    const sender = new EventSender({
      signingKey: testKey(SECRET),
      logger: logger(),
      baseDelayMs: 1,
    });
    expect(await sender.send(`${edge.url}/internal/regions/x/events`, running("job_d"))).toBe(
      false,
    );
    expect(edge.attempts).toHaveLength(1);
  });

  it("close waits for pending deliveries, then abandons what is left", async () => {
    edge.respond = () => 503;
    const sender = new EventSender({
      signingKey: testKey(SECRET),
      logger: logger(),
      baseDelayMs: 50,
    });
    const delivery = sender.send(`${edge.url}/internal/regions/x/events`, running("job_e"));
    const started = Date.now();
    await sender.close(120);
    expect(await delivery).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sender.pending()).toBe(0);
  });
});
